#pragma once
/// \file `adgraph train`: minibatch training of an MLP on Fashion-MNIST with metrics, checkpoints and plots.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include <adgraph/nn/data.hpp>

namespace adg::cli {

/// Everything `adgraph train` can be told.
struct TrainOptions {
    std::string model = "784-256-128-10";
    std::string activation = "relu";
    double dropout = 0.1;
    std::string init = "he";
    std::string optimizer = "adamw";
    double lr = 1e-3;
    double momentum = 0.9;
    bool nesterov = false;
    double weight_decay = 0.05;
    std::string schedule = "cosine";
    double warmup_epochs = 0.0;
    std::size_t epochs = 30;
    double clip_grad_norm = 0.0;  ///< 0: no clipping
    std::size_t batch = 128;
    std::uint64_t seed = 1;
    int threads = 0;  ///< 0: all cores
    std::string data = nn::default_fashion_mnist_dir;
    std::string out = "adgraph-run";
    std::size_t limit = 0;  ///< 0: all samples
    bool plot = true;
    std::string resume;  ///< a checkpoint of adgraph train to continue from ("": start afresh)
};

/// The options `--model cnn` trains with unless they are given: the defaults of TrainOptions with the preset's
/// own epochs, learning rate, dropout and initialisation.
TrainOptions cnn_preset_options();

/// The options `--model gru` trains with unless they are given: Adam without weight decay, its own epochs and
/// learning rate, gradient clipping, PyTorch's initialisation for the linear head.
TrainOptions gru_preset_options();

/// For a preset model (`o.model` is "cnn" or "gru"), sets each option that `given(name)` (e.g. "--epochs") says
/// was not on the command line to the preset's value; leaves `o` alone for any other model.
void apply_preset_defaults(TrainOptions& o, const std::function<bool(const std::string&)>& given);

/// The defaults of the preset `preset` ("cnn" or "gru") as --help shows them ("--epochs 8 --lr 0.002 ...": only
/// those that differ from the MLP's).
std::string preset_defaults_text(const std::string& preset);

/// A bad option value (reported with exit code 2).
struct UsageError {
    std::string message;
    /// Under mpirun, whether every rank reports it (a rank other than 0 naming itself): true for what only this rank
    /// may have found (its own copy of a --resume checkpoint); false when every rank parses the same arguments and
    /// fails alike, so that rank 0 alone reports.
    bool every_rank = false;
};

/// Throws UsageError unless the options make sense (positive lr and batch, a valid spec, ...).
void validate(const TrainOptions& o);

/// Trains (data-parallel over the ranks of an MPI job when started by mpirun in a build with MPI; see ranks.hpp),
/// evaluates every epoch, writes metrics.jsonl, the checkpoint, confusion matrix and curves into o.out (rank 0
/// alone); continues the checkpoint o.resume if given; returns the exit code.
int train(const TrainOptions& o, std::ostream& out, std::ostream& err);

/// Sets OpenBLAS's thread count (0: all cores); returns the count in effect.
int set_threads(int threads);

}  // namespace adg::cli
