#include "mlp_setup.hpp"

#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace adg::bench {

namespace {

// splitmix64: tiny, seedable and identical in every program (std:: distributions are not portable).
struct Mix {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

std::vector<unsigned char> read_gz(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return {};
    std::vector<unsigned char> out;
    unsigned char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
    gzclose(f);
    return out;
}

std::string first_existing(const std::string& dir, const std::string& name) {
    for (const auto& p : {dir + "/" + name, dir + "/" + name + ".gz"}) {
        if (std::filesystem::exists(p)) return p;
    }
    return {};
}

std::uint32_t be32(const std::vector<unsigned char>& b, std::size_t at) {
    return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}

MlpData synthetic(std::size_t rows) {
    MlpData d;
    d.rows = rows;
    d.images.resize(rows * d.features);
    d.labels.resize(rows);
    Mix mix{42};
    for (auto& v : d.images) v = static_cast<float>(2 * mix.uniform() - 1);
    for (auto& l : d.labels) l = static_cast<std::int64_t>(mix.next() % d.classes);
    d.source = "synthetic (" + std::to_string(rows) + ")";
    return d;
}

}  // namespace

MlpData load_mlp_data(const std::string& dir, std::size_t limit) {
    const std::string ip = dir.empty() ? "" : first_existing(dir, "train-images-idx3-ubyte");
    const std::string lp = dir.empty() ? "" : first_existing(dir, "train-labels-idx1-ubyte");
    if (ip.empty() || lp.empty()) return synthetic(limit ? limit : 60000);
    const auto img = read_gz(ip), lab = read_gz(lp);
    if (img.size() < 16 || lab.size() < 8) throw std::runtime_error("unreadable IDX files in " + dir);
    MlpData d;
    const std::size_t n = be32(img, 4), features = std::size_t(be32(img, 8)) * be32(img, 12);
    if (features != d.features || be32(lab, 4) != n || img.size() < 16 + n * features || lab.size() < 8 + n)
        throw std::runtime_error("unexpected IDX layout in " + dir);
    d.rows = limit ? std::min(limit, n) : n;
    d.images.resize(d.rows * d.features);
    d.labels.resize(d.rows);
    // The same normalisation as adgraph's loader: (p / 255 - mean) / std with Fashion-MNIST's statistics.
    const float mean = 0.2860f, std = 0.3530f;
    for (std::size_t i = 0; i < d.images.size(); ++i) d.images[i] = (img[16 + i] / 255.0f - mean) / std;
    for (std::size_t i = 0; i < d.rows; ++i) d.labels[i] = lab[8 + i];
    d.source = "fashion-mnist (" + std::to_string(d.rows) + ")";
    return d;
}

std::vector<LayerInit> initial_layers(const std::vector<std::size_t>& sizes, std::uint64_t seed) {
    Mix mix{seed};
    std::vector<LayerInit> layers;
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        LayerInit li;
        li.in = sizes[l];
        li.out = sizes[l + 1];
        const double bound = 1.0 / std::sqrt(static_cast<double>(li.in));
        li.weight.resize(li.in * li.out);
        li.bias.resize(li.out);
        for (auto& w : li.weight) w = static_cast<float>(bound * (2 * mix.uniform() - 1));
        for (auto& b : li.bias) b = static_cast<float>(bound * (2 * mix.uniform() - 1));
        layers.push_back(std::move(li));
    }
    return layers;
}

std::string MlpConfig::model() const {
    std::string s;
    for (auto v : sizes) s += (s.empty() ? "" : "-") + std::to_string(v);
    return s;
}

const std::vector<std::string>& step_phases() {
    static const std::vector<std::string> names{"batch", "forward", "loss", "backward", "free graph", "optimizer"};
    return names;
}

std::vector<double> phase_medians(const std::vector<std::vector<double>>& per_epoch) {
    std::vector<double> out;
    for (std::size_t p = 0; p < step_phases().size(); ++p) {
        std::vector<double> v;
        for (const auto& e : per_epoch) v.push_back(e[p]);
        std::sort(v.begin(), v.end());
        out.push_back(v.empty() ? 0.0 : v[v.size() / 2]);
    }
    return out;
}

std::string phase_line(const std::vector<double>& medians) {
    std::string s;
    char buf[64];
    for (std::size_t p = 0; p < medians.size(); ++p) {
        std::snprintf(buf, sizeof buf, "%s%s %.3f s", p ? ", " : "", step_phases()[p].c_str(), medians[p]);
        s += buf;
    }
    return s;
}

double process_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const auto sec = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + 1e-6 * static_cast<double>(tv.tv_usec);
    };
    return sec(ru.ru_utime) + sec(ru.ru_stime);
}

long minor_faults() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

std::vector<int> parse_thread_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, ',')) {
        const int t = std::stoi(part);
        if (t < 1) throw std::invalid_argument("thread counts must be >= 1");
        out.push_back(t);
    }
    if (out.empty()) throw std::invalid_argument("no thread count given");
    return out;
}

void report_memory(Output& out, const std::string& engine, int threads, std::size_t rss_before, std::size_t rss_peak,
                   bool reset, double first_loss) {
    out.row({{"engine", engine},
             {"metric", "rss"},
             {"threads", threads},
             {"rss_before_bytes", rss_before},
             {"rss_peak_bytes", rss_peak},
             {"peak_reset", reset},
             {"first_epoch_loss", first_loss}},
            format("peak RSS while training %.1f MiB (%.1f MiB before the first epoch%s); mean loss of the first epoch "
                   "%.6f",
                   rss_peak / 1048576.0, rss_before / 1048576.0, reset ? "" : ", peak not resettable", first_loss));
}

}  // namespace adg::bench
