#pragma once
/// \file Training progress on stderr: a bar redrawn at most 10 times a second on a terminal, else nothing until
/// the epoch's summary line.

#include <chrono>
#include <iosfwd>
#include <string>

namespace adg::cli {

/// Progress of one training run.
class Progress {
public:
    /// Reports to `err`; draws a bar only when `bar` (stderr is a terminal).
    Progress(std::ostream& err, bool bar, std::size_t epochs, std::size_t samples_per_epoch);
    /// Marks the start of epoch `epoch` (0-based).
    void start_epoch(std::size_t epoch);
    /// `samples` of this epoch done, mean loss so far `loss`; redraws if 100 ms have passed.
    void update(std::size_t samples, double loss);
    /// Ends the epoch with its summary line (replacing the bar); an empty summary only clears the bar.
    void end_epoch(const std::string& summary);

private:
    using Clock = std::chrono::steady_clock;
    std::ostream& err_;
    bool bar_;
    std::size_t epochs_, per_epoch_, epoch_ = 0;
    Clock::time_point epoch_start_, last_draw_;
    std::size_t drawn_width_ = 0;
};

/// True if the file descriptor of stderr is a terminal.
bool stderr_is_terminal();

}  // namespace adg::cli
