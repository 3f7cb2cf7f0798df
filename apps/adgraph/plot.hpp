#pragma once
/// \file Loss and accuracy curves as a PNG, drawn by gnuplot (Debian's gnuplot-nox).

#include <string>
#include <vector>

namespace adg::cli {

/// One epoch's metrics.
struct EpochRow {
    std::size_t epoch = 0;
    double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, lr = 0, seconds = 0;
};

/// Writes `png` with two panels (loss, accuracy) from `rows` via gnuplot; returns an empty string on success,
/// else why it could not (gnuplot missing or failing), for a warning.
std::string plot_curves(const std::vector<EpochRow>& rows, const std::string& png);

}  // namespace adg::cli
