#pragma once
/// \file adgraph: one include for the whole library.

#include <adgraph/tensor/array.hpp>
#include <adgraph/tensor/dtype.hpp>
#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/random.hpp>
#include <adgraph/tensor/shape.hpp>

#include <adgraph/autodiff/check.hpp>
#include <adgraph/autodiff/functional.hpp>
#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/sweep.hpp>
#include <adgraph/autodiff/tensor.hpp>
