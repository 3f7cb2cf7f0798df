#pragma once
/// \file `adgraph train --resume`: the options a checkpoint records, and the run it continues.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <adgraph/nn/safetensors.hpp>

#include "adgraph/plot.hpp"
#include "adgraph/train.hpp"

namespace adg::cli {

/// The options of `o` that shape a run (not --threads, --data, --out, --no-plot, --resume) as JSON, for the
/// checkpoint's metadata entry "train_options".
std::string options_json(const TrainOptions& o);

/// For `o.resume`: reads the checkpoint's metadata; sets each option that `given(name)` (e.g. "--batch") says was
/// not on the command line to the checkpoint's value (--out: the checkpoint's directory); refuses with UsageError a
/// given option that the run must keep (--model, --activation, --dropout, --init, --optimizer, --batch, --seed,
/// --limit) with another value, --momentum > 0 for an SGD run saved without momentum (it kept no velocity), and
/// --epochs not above the epochs done. Throws io_error if the checkpoint cannot
/// be read or was not written by an adgraph train that records its options.
void apply_resume_options(TrainOptions& o, const std::function<bool(const std::string&)>& given);

/// Where the run of a checkpoint stands.
struct ResumePoint {
    /// Epochs done.
    std::size_t epoch = 0;
    /// Global steps (optimizer steps) done.
    std::uint64_t global_step = 0;
};

/// The epochs and global steps done, from the metadata `meta` ("epoch", "global_step") of checkpoint `path`;
/// throws io_error if either is missing or not a whole number.
ResumePoint resume_point(const std::string& path, const nn::Metadata& meta);

/// Throws io_error naming checkpoint `path` unless `at.global_step` is `at.epoch` epochs of `batches` steps each
/// (`images` training images in batches of `batch`). A resumed run keeps --batch and --limit, but not --data: with
/// --limit 0 (or above the set's size) another copy of the data with another number of images differs too, as does
/// a corrupt checkpoint.
void check_resume_steps(const std::string& path, const ResumePoint& at, std::size_t batches, std::size_t images,
                        std::size_t batch);

/// A fingerprint of the run this rank resumes: its options (options_json), epochs and global steps done, generator
/// state (metadata "rng") and optimizer state. Ranks that loaded the same checkpoint have the same one.
std::uint64_t resume_fingerprint(const std::string& options, const ResumePoint& at, const std::string& rng,
                                 const nn::NamedArrays& optimizer_state);

/// A fingerprint of the run this rank starts: its options (options_json), the number of training and test images
/// it loaded, and whether it resumes a checkpoint (a resuming rank makes collectives a fresh one does not). Ranks
/// started with one command line on the same data have the same one.
std::uint64_t start_fingerprint(const std::string& options, std::size_t train_images, std::size_t test_images,
                                bool resumed);

/// "" if every rank's fingerprint (`fingerprints[r]`: rank r's start_fingerprint) equals rank 0's; else the error
/// text naming the ranks that were started with other options or other data (e.g. another --data copy on their
/// node), which would otherwise train another number of steps and leave the others waiting.
std::string start_mismatch(const std::vector<std::uint64_t>& fingerprints);

/// "" if every rank's fingerprint (`fingerprints[r]`: rank r's resume_fingerprint) equals rank 0's; else the error
/// text naming checkpoint `path` and the ranks that loaded another run (e.g. a stale copy of the file on their node).
std::string resume_mismatch(const std::string& path, const std::vector<std::uint64_t>& fingerprints);

/// The metrics of an earlier run that a resumed one continues.
struct MetricsHistory {
    /// The lines of metrics.jsonl of epochs 1 to the checkpoint's, each ending in '\n'.
    std::string text;
    /// The same rows, parsed (for the curves).
    std::vector<EpochRow> rows;
};

/// The rows of epochs 1..`epochs` of the metrics.jsonl at `path`, the one beside the checkpoint (none if there is
/// no such file; lines that are not such a row are dropped, e.g. an epoch after the checkpoint's).
MetricsHistory read_metrics_history(const std::string& path, std::size_t epochs);

}  // namespace adg::cli
