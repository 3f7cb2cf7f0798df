#pragma once
// What class_pictures and deep_dream check about the engine while they optimise an input: the frozen classifier
// collects no gradient, and neither the graph (live nodes) nor the process (resident memory) grows from one step
// to the next.

#include <cstddef>
#include <cstdio>

#include <adgraph/adgraph.hpp>

#include "support.hpp"

namespace outlook {

/// The number of the model's parameters holding a gradient after a backward pass (0 when it is frozen, as
/// load_classifier leaves it): the sweep must stop at the input and store nothing in the weights.
inline std::size_t parameters_with_grad(const adg::nn::Module& model) {
    std::size_t n = 0;
    for (const adg::Tensor& p : model.parameters()) n += p.has_grad() ? 1 : 0;
    return n;
}

/// Live graph nodes and resident memory sampled between optimisation steps. The first `settle` steps may allocate
/// (optimizer state, the allocator's pools); from then on the count of live nodes is the baseline, and any step
/// ending with more nodes alive is a leak.
class StepWatch {
public:
    explicit StepWatch(std::size_t settle = 3) : settle_(settle) {}

    /// Call after each step, when the step's tensors are out of scope.
    void after_step() {
        ++steps_;
        const long nodes = adg::live_node_count();
        if (steps_ == settle_) {
            nodes_before_ = nodes_most_ = nodes;
            rss_start_ = rss_bytes();
        } else if (steps_ > settle_ && nodes > nodes_most_) {
            nodes_most_ = nodes;
        }
        nodes_after_ = nodes;
    }

    /// Prints the two lines of the memory report; returns false (and says so) if the live nodes grew.
    bool report(const char* program) const {
        const double mib = 1024.0 * 1024.0;
        std::printf("rss: start %.1f MiB, end %.1f MiB over %zu steps\n", static_cast<double>(rss_start_) / mib,
                    static_cast<double>(rss_bytes()) / mib, steps_);
        std::printf("live nodes: before %ld, after %ld (most between steps %ld)\n", nodes_before_, nodes_after_,
                    nodes_most_);
        if (steps_ < settle_) return true;  // too few steps to compare
        if (nodes_most_ > nodes_before_) {
            std::fprintf(stderr, "%s: FAIL: live graph nodes grew between steps, from %ld to %ld\n", program,
                         nodes_before_, nodes_most_);
            return false;
        }
        return true;
    }

private:
    std::size_t settle_, steps_ = 0, rss_start_ = 0;
    long nodes_before_ = 0, nodes_after_ = 0, nodes_most_ = 0;
};

}  // namespace outlook
