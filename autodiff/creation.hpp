#pragma once
/// \file Creating tensors as libtorch and JAX do: arange, linspace, eye and the *_like family (constants: none
/// requires grad).

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// 0, 1, ..., up to but excluding `end` (torch.arange(end)): arange(0, end, 1).
Tensor arange(double end, Dtype dtype = f32, Site site = Site::here());
/// start, start + step, ... up to but excluding `end`: ⌈(end − start) / step⌉ values start + i·step (computed in
/// double, then stored in dtype). Throws value_error for a step of 0, a step whose sign cannot reach `end`, or a
/// non-finite bound.
Tensor arange(double start, double end, double step = 1.0, Dtype dtype = f32, Site site = Site::here());
/// `steps` values evenly spaced from `start` to `end`, both included (torch.linspace, jnp.linspace): the first half
/// counted from start and the second from end, so both ends are exact. steps = 1 gives {start}; 0 an empty tensor.
Tensor linspace(double start, double end, std::size_t steps, Dtype dtype = f32, Site site = Site::here());
/// The n × n identity.
Tensor eye(std::size_t n, Dtype dtype = f32, Site site = Site::here());
/// The n × m matrix with ones on the main diagonal (torch.eye(n, m)).
Tensor eye(std::size_t n, std::size_t m, Dtype dtype = f32, Site site = Site::here());

/// `value` in x's shape and dtype (torch.full_like).
Tensor full_like(const Tensor& x, double value, Site site = Site::here());
/// U(0, 1) values in x's shape and dtype, drawn from `gen` (torch.rand_like with a generator).
Tensor rand_like(const Tensor& x, Generator& gen, Site site = Site::here());
/// N(0, 1) values in x's shape and dtype, drawn from `gen` (torch.randn_like with a generator).
Tensor randn_like(const Tensor& x, Generator& gen, Site site = Site::here());
/// U(lo, hi) values in x's shape and dtype, drawn from `gen` (Tensor::uniform's like form).
Tensor uniform_like(const Tensor& x, double lo, double hi, Generator& gen, Site site = Site::here());
/// N(mean, std²) values in x's shape and dtype, drawn from `gen` (Tensor::normal's like form).
Tensor normal_like(const Tensor& x, double mean, double std, Generator& gen, Site site = Site::here());

}  // namespace adg
