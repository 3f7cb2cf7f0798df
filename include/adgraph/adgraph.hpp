#pragma once
/// \file adgraph: one include for the whole library.

#include <adgraph/tensor/allocator.hpp>
#include <adgraph/tensor/array.hpp>
#include <adgraph/tensor/dtype.hpp>
#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>
#include <adgraph/tensor/random.hpp>
#include <adgraph/tensor/shape.hpp>
#include <adgraph/tensor/size.hpp>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/check.hpp>
#include <adgraph/autodiff/creation.hpp>
#include <adgraph/autodiff/custom.hpp>
#include <adgraph/autodiff/functional.hpp>
#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/graphviz.hpp>
#include <adgraph/autodiff/higher.hpp>
#include <adgraph/autodiff/jacobian.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/sweep.hpp>
#include <adgraph/autodiff/tensor.hpp>

#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/batch_norm.hpp>
#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/conv.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/data_loader.hpp>
#include <adgraph/nn/dropout.hpp>
#include <adgraph/nn/flatten.hpp>
#include <adgraph/nn/init.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/memory.hpp>
#include <adgraph/nn/metrics.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/module.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/pool.hpp>
#include <adgraph/nn/residual.hpp>
#include <adgraph/nn/rnn.hpp>
#include <adgraph/nn/schedule.hpp>
#include <adgraph/nn/sequence.hpp>
#include <adgraph/nn/sequential.hpp>
#include <adgraph/nn/state_dict.hpp>
