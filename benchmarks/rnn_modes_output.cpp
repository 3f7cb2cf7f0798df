#include "rnn_modes_output.hpp"

#include <adgraph/nn/gnuplot.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace adg::bench {

std::string write_plot(const std::vector<ConfigResult>& rs, const Settings& s, const std::string& png) {
    std::vector<std::size_t> hiddens;
    for (const auto& c : rs) {
        if (c.dtype == f32 && std::find(hiddens.begin(), hiddens.end(), c.hidden) == hiddens.end())
            hiddens.push_back(c.hidden);
    }
    const std::vector<std::string> modes = {"BPTT", "RTRL", "truncated BPTT"};
    const std::vector<std::string> colors = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
    std::ostringstream d;
    struct Series {
        std::string block, title;
        std::size_t mode, hidden;  // indices into modes and hiddens
    };
    std::vector<Series> series;
    for (std::size_t hi = 0; hi < hiddens.size(); ++hi) {
        for (std::size_t m = 0; m < modes.size(); ++m) {
            const std::string name = "$m" + std::to_string(m) + "h" + std::to_string(hi);
            d << name << " << EOD\n# T seconds peak_MB extrapolated\n";
            bool any = false;
            for (const auto& c : rs) {
                if (c.dtype != f32 || c.hidden != hiddens[hi]) continue;
                for (const auto& r : c.modes) {
                    if (r.mode != modes[m]) continue;
                    // Log axes: a rise under 0.01 MB (a few pages) is drawn at 0.01.
                    d << c.steps << ' ' << r.seconds << ' ' << std::max(r.mem.peak_rss_bytes / 1e6, 0.01) << ' '
                      << (r.extrapolated ? 1 : 0) << '\n';
                    any = true;
                }
            }
            d << "EOD\n";
            if (any) series.push_back({name, modes[m] + " h=" + std::to_string(hiddens[hi]), m, hi});
        }
    }
    std::ostringstream sc;
    sc << "set terminal pngcairo size 1200,640 font 'sans,10'\n" << d.str();
    sc << "set multiplot layout 1,2 title 'GRU (input " << s.input << ", batch " << s.batch
       << ", float32): the gradient of a last-step loss by BPTT, RTRL (chunks of " << s.chunk
       << " directions) and truncated BPTT (window " << s.window
       << ")'\nset logscale xy\nset format y '%g'\nset grid\nset xlabel 'sequence length T'\nset bmargin 10\n";
    // One key for both panels, below them: a column per hidden size (a row per mode), then the open circle.
    const auto panel = [&](int column, const char* ylabel, const char* title, bool key) {
        sc << "set ylabel '" << ylabel << "'\nset title '" << title << "'\n";
        if (key) {
            sc << "set key at screen 0.5, 0.01 center bottom vertical maxrows " << modes.size()
               << " width 2 font ',9'\n";
        } else {
            sc << "unset key\n";
        }
        sc << "plot ";
        for (std::size_t i = 0; i < series.size(); ++i) {
            const Series& e = series[i];
            const std::string color = colors[e.hidden % colors.size()];
            // Line style by mode (solid, dashed, dotted), colour by hidden size; filled points measured, open ones
            // extrapolated (time only: memory is always measured).
            const std::string open = column == 2 ? "$4 > 0" : "0";
            sc << (i ? ", " : "") << e.block << " using 1:" << column << " with linespoints lw 2 dt " << e.mode + 1
               << " pt 7 ps 0.8 lc rgb '" << color << "' title '" << e.title << "', " << e.block << " using 1:(" << open
               << " ? $" << column << " : 1/0) with points pt 6 ps 2 lw 2 lc rgb '" << color << "' notitle";
        }
        sc << "\n";
    };
    panel(2, "seconds", "time (open circles: RTRL extrapolated from a sample of chunks)", true);
    panel(3, "peak RSS rise (MB)", "peak memory (measured; RTRL: one chunk at a time)", false);
    sc << "unset multiplot\n";
    return nn::plot_png(sc.str(), png);
}

std::string csv_of(const std::vector<ConfigResult>& rs, const Settings& s) {
    std::ostringstream o;
    o << "dtype,hidden,steps,batch,params,mode,seconds,reps,extrapolated,chunks_run,chunks,chunk,peak_rss_mb,held_mb,"
         "max_abs_diff_vs_bptt,rel_diff_vs_bptt\n";
    for (const auto& c : rs) {
        for (const auto& r : c.modes) {
            o << dtype_name(c.dtype) << ',' << c.hidden << ',' << c.steps << ',' << s.batch << ',' << c.params << ",\""
              << r.mode << "\"," << r.seconds << ',' << r.reps << ',' << (r.extrapolated ? 1 : 0) << ',' << r.chunks_run
              << ',' << r.chunks << ',' << (r.mode == "RTRL" ? s.chunk : 0) << ',' << r.mem.peak_rss_bytes / 1e6 << ','
              << r.mem.held_bytes / 1e6 << ',' << r.diff << ',' << r.rel << '\n';
        }
    }
    return o.str();
}

std::vector<ConfigResult> read_csv(const std::string& path, Settings& s) {
    std::ifstream in(path);
    if (!in) throw io_error("'" + path + "': cannot read it; pass a CSV bench_rnn_modes wrote");
    std::string line;
    std::getline(in, line);
    std::vector<ConfigResult> rs;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream cells(line);
        std::string cell;
        while (std::getline(cells, cell, ',')) {
            if (cell.size() >= 2 && cell.front() == '"') cell = cell.substr(1, cell.size() - 2);
            f.push_back(cell);
        }
        if (f.size() < 16)
            throw value_error("'" + path + "': a row has " + std::to_string(f.size()) +
                              " fields, not 16; pass a CSV bench_rnn_modes wrote");
        const Dtype dtype = f[0] == "float64" ? f64 : f32;
        const std::size_t hidden = std::stoul(f[1]), steps = std::stoul(f[2]);
        s.batch = std::stoul(f[3]);
        if (rs.empty() || rs.back().dtype != dtype || rs.back().hidden != hidden || rs.back().steps != steps) {
            rs.emplace_back();
            rs.back().dtype = dtype;
            rs.back().hidden = hidden;
            rs.back().steps = steps;
            rs.back().params = std::stoul(f[4]);
        }
        ModeResult r;
        r.mode = f[5];
        r.seconds = std::stod(f[6]);
        r.extrapolated = f[8] == "1";
        if (r.mode == "RTRL") s.chunk = std::stoul(f[11]);
        r.mem.peak_rss_bytes = std::stod(f[12]) * 1e6;
        r.mem.held_bytes = std::stod(f[13]) * 1e6;
        rs.back().modes.push_back(r);
    }
    return rs;
}

}  // namespace adg::bench
