#include "adgraph/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <ostream>

namespace adg::cli {

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::ostream& err, bool bar, std::size_t epochs, std::size_t samples_per_epoch)
    : err_(err), bar_(bar), epochs_(epochs), per_epoch_(samples_per_epoch) {}

void Progress::start_epoch(std::size_t epoch) {
    epoch_ = epoch;
    epoch_start_ = Clock::now();
    last_draw_ = epoch_start_ - std::chrono::seconds(1);
}

void Progress::update(std::size_t samples, double loss) {
    if (!bar_) return;
    const auto now = Clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100) && samples < per_epoch_) return;
    last_draw_ = now;
    const double secs = std::chrono::duration<double>(now - epoch_start_).count();
    const double rate = secs > 0 ? static_cast<double>(samples) / secs : 0.0;
    const double eta = rate > 0 ? static_cast<double>(per_epoch_ - samples) / rate : 0.0;
    const std::size_t width = 30, filled = per_epoch_ ? width * samples / per_epoch_ : width;
    char line[200];
    const int n =
        std::snprintf(line, sizeof line, "\repoch %zu/%zu [%s%s] %3zu%% %7.0f samples/s ETA %4.1fs loss %.4f",
                      epoch_ + 1, epochs_, std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                      per_epoch_ ? 100 * samples / per_epoch_ : 100, rate, eta, loss);
    drawn_width_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    err_ << line << std::flush;
}

void Progress::end_epoch(const std::string& summary) {
    if (bar_ && drawn_width_) err_ << "\r" << std::string(drawn_width_, ' ') << "\r";
    drawn_width_ = 0;
    // An empty summary only clears the bar (an epoch cut short): no blank line before the message that follows.
    if (!summary.empty()) err_ << summary << "\n";
    err_ << std::flush;
}

}  // namespace adg::cli
