#pragma once
/// \file What bench_data_parallel's ranks and its single-process compute profile share: the two models as
/// `adgraph train` builds them (the MLP 784-256-128-10 and the `cnn` preset, each with the optimizer settings
/// `adgraph train` uses for it), the data, and one training step of a batch. No MPI here.

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/data_loader.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/sequential.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace adg::bench {

/// One benchmarked model: its spec for nn::build_model, the shape one sample takes, and `adgraph train`'s
/// settings for it (dropout, initialisation, AdamW's learning rate and weight decay; no schedule: a schedule
/// changes only the value of lr).
struct DpCase {
    std::string name;  ///< "mlp" or "cnn"
    std::string spec;  ///< "784-256-128-10" or "cnn"
    double dropout = 0;
    std::string init;
    double lr = 0, weight_decay = 0;
    Shape input;  ///< (784) or (1, 28, 28)
    /// "784-256-128-10 relu, dropout 0.1, he init; adamw lr 0.001 weight decay 0.05".
    std::string line() const;
};

/// The case named "mlp" or "cnn"; throws std::invalid_argument for another name.
DpCase dp_case(const std::string& name);

/// The first `limit` (0: all) Fashion-MNIST training images from `dir`; a synthetic stand-in of that shape
/// (`limit` rows, 60000 if 0) when `dir` holds no data (CI). `source` says which.
nn::Dataset dp_data(const std::string& dir, std::size_t limit, std::string& source);

/// The case's model as `adgraph train --model <spec>` builds it, weights drawn from seed 1.
std::shared_ptr<nn::Sequential> dp_model(const DpCase& c);

/// AdamW over the model's parameters with the case's settings.
std::unique_ptr<nn::Optimizer> dp_optimizer(const DpCase& c, nn::Module& model);

/// The batch's inputs in the shape the model takes (the CNN's rows as (B, 1, 28, 28) images).
Tensor dp_input(const DpCase& c, const Tensor& x);

/// The case's gradient bytes: 4 per float32 parameter.
std::size_t gradient_bytes(nn::Module& model);

}  // namespace adg::bench
