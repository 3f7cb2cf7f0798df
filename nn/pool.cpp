#include <adgraph/nn/pool.hpp>

namespace adg::nn {

namespace {

std::string pair_str(Size2 s) { return std::to_string(s.h) + "x" + std::to_string(s.w); }

PoolWindow make_window(const char* layer, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
    const PoolWindow w{kernel, stride.value_or(kernel), padding};
    const std::string name = std::string(layer) + "(" + pair_str(kernel) + ")";
    if (kernel.h == 0 || kernel.w == 0 || w.stride.h == 0 || w.stride.w == 0) {
        throw value_error(name + ": kernel and stride must be positive (got kernel " + pair_str(kernel) + ", stride " +
                          pair_str(w.stride) + ")");
    }
    // A window made only of padding would have no value to pool.
    if (2 * padding.h > kernel.h || 2 * padding.w > kernel.w) {
        throw value_error(name + ": padding " + pair_str(padding) + " is more than half the kernel; pass padding " +
                          "at most " + pair_str({kernel.h / 2, kernel.w / 2}));
    }
    return w;
}

}  // namespace

std::string PoolWindow::to_string() const {
    std::string s = pair_str(kernel);
    if (stride.h != kernel.h || stride.w != kernel.w) s += ", stride " + pair_str(stride);
    if (padding.h != 0 || padding.w != 0) s += ", padding " + pair_str(padding);
    return s;
}

std::string PoolWindow::extra_repr() const {
    const auto size = [](Size2 s) {
        return s.h == s.w ? std::to_string(s.h) : "(" + std::to_string(s.h) + ", " + std::to_string(s.w) + ")";
    };
    return "kernel_size=" + size(kernel) + ", stride=" + size(stride) + ", padding=" + size(padding);
}

MaxPool2d::MaxPool2d(Size2 kernel, std::optional<Size2> stride, Size2 padding)
    : window_(make_window("MaxPool2d", kernel, stride, padding)) {}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, window_.kernel, window_.stride, window_.padding); }

std::string MaxPool2d::to_string() const { return "MaxPool2d(" + window_.to_string() + ")"; }

std::string MaxPool2d::extra_repr() const { return window_.extra_repr(); }

AvgPool2d::AvgPool2d(Size2 kernel, std::optional<Size2> stride, Size2 padding)
    : window_(make_window("AvgPool2d", kernel, stride, padding)) {}

Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, window_.kernel, window_.stride, window_.padding); }

std::string AvgPool2d::to_string() const { return "AvgPool2d(" + window_.to_string() + ")"; }

std::string AvgPool2d::extra_repr() const { return window_.extra_repr(); }

}  // namespace adg::nn
