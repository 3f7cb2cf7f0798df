#pragma once
/// \file `adgraph playground` without a browser: train a Session and write its decision surface as a PNG.

#include <cstddef>
#include <iosfwd>
#include <string>

#include <adgraph/nn/png.hpp>

#include "playground/session.hpp"

namespace adg::playground {

/// What a headless run does.
struct HeadlessOptions {
    Config config;                   ///< the page's settings
    std::size_t steps = 1000;        ///< epochs to train (the page's epoch counter)
    std::size_t report_every = 100;  ///< print the losses every this many epochs (0: only at the end)
    std::string png;                 ///< write the decision surface here when not empty
    std::size_t png_side = 400;      ///< the picture's width and height in pixels
    bool show_test = false;          ///< draw the test points too
};

/// The output's heat map over [-domain, domain]² in the page's colours (orange −1, white 0, blue +1), with the
/// training points (and the test points when `show_test`) drawn on it as discs of their label's colour, training
/// points ringed white, test points dark; `side` pixels square (value_error unless 1..4096).
nn::Image render_surface(const Session& session, std::size_t side, bool show_test);

/// Trains as `options` says, printing "epoch N  train loss L  test loss L" lines to `out` (every report_every
/// epochs and after the last), then writes the PNG (atomically, see nn::write_png) and prints "wrote <png>".
/// Returns 0. Throws value_error for a bad configuration or png_side before training.
int run_headless(const HeadlessOptions& options, std::ostream& out);

}  // namespace adg::playground
