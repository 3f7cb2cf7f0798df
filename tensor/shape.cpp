#include <adgraph/tensor/shape.hpp>

#include <algorithm>

#include <adgraph/tensor/error.hpp>

namespace adg {

std::size_t numel(const Shape& s) {
    std::size_t n = 1;
    for (auto d : s) {
        if (__builtin_mul_overflow(n, d, &n)) {
            throw shape_error("shape " + shape_str(s) +
                              " has more elements than a size_t can count; was a negative size converted to size_t?");
        }
    }
    return n;
}

std::string shape_str(const Shape& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i) out += ",";
        out += std::to_string(s[i]);
    }
    return out + ")";
}

Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
    const std::size_t rank = std::max(a.size(), b.size());
    Shape out(rank, 1);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::size_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
        const std::size_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
        if (da != db && da != 1 && db != 1) {
            throw shape_error(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                              " cannot be broadcast together (axis -" + std::to_string(i + 1) + ": " +
                              std::to_string(da) + " vs " + std::to_string(db) +
                              "); sizes must be equal or 1 — reshape or broadcast_to one operand first");
        }
        out[rank - 1 - i] = da == 1 ? db : da;
    }
    return out;
}

bool broadcasts_to(const Shape& from, const Shape& to) {
    if (from.size() > to.size()) return false;
    for (std::size_t i = 0; i < from.size(); ++i) {
        const std::size_t f = from[from.size() - 1 - i], t = to[to.size() - 1 - i];
        if (f != t && f != 1) return false;
    }
    return true;
}

std::string index_range_str(std::size_t n) {
    if (n == 0) return "none is valid: the size is 0";
    return "valid: 0.." + std::to_string(n - 1);
}

std::size_t normalize_axis(long axis, std::size_t rank, const char* op) {
    const long r = static_cast<long>(rank);
    if (r == 0) {
        throw value_error(std::string(op) + ": axis " + std::to_string(axis) +
                          " does not exist: the tensor is a scalar (rank 0), which has no axes; reshape it to (1)");
    }
    if (axis < -r || axis >= r) {
        throw value_error(std::string(op) + ": axis " + std::to_string(axis) +
                          " is out of range for a tensor of rank " + std::to_string(rank) +
                          " (valid: " + std::to_string(-r) + " .. " + std::to_string(r - 1) + ")");
    }
    return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

long negative_axis(long axis, std::size_t rank, const char* op) {
    return static_cast<long>(normalize_axis(axis, rank, op)) - static_cast<long>(rank);
}

void check_reshape(const Shape& from, const Shape& to) {
    if (numel(from) != numel(to)) {
        throw shape_error("reshape: cannot reshape " + shape_str(from) + " (" + std::to_string(numel(from)) +
                          " elements) to " + shape_str(to) + " (" + std::to_string(numel(to)) +
                          " elements); the element counts must match");
    }
}

void check_broadcastable(const Shape& from, const Shape& to, const char* op) {
    if (!broadcasts_to(from, to)) {
        throw shape_error(std::string(op) + ": shape " + shape_str(from) + " cannot be broadcast to " + shape_str(to) +
                          "; each axis must match or be 1, aligned from the right");
    }
}

void check_summable(const Shape& from, const Shape& to) {
    if (!broadcasts_to(to, from)) {
        throw shape_error("sum_to: shape " + shape_str(from) + " cannot be summed down to " + shape_str(to) +
                          " (the target must broadcast to the source)");
    }
}

std::vector<std::size_t> normalize_axes(const Axes& axes, std::size_t rank, const char* op) {
    std::vector<std::size_t> out;
    if (axes.empty()) {
        for (std::size_t i = 0; i < rank; ++i) out.push_back(i);
        return out;
    }
    for (long a : axes) out.push_back(normalize_axis(a, rank, op));
    std::sort(out.begin(), out.end());
    const auto twice = std::adjacent_find(out.begin(), out.end());
    if (twice != out.end()) {
        std::string given;
        for (long a : axes) given += (given.empty() ? "" : ",") + std::to_string(a);
        throw value_error(std::string(op) + ": axes (" + given + ") name axis " + std::to_string(*twice) +
                          " of a tensor of rank " + std::to_string(rank) + " twice; list each axis once");
    }
    return out;
}

Shape reduced_shape(const Shape& s, const std::vector<std::size_t>& axes) {
    Shape out = s;
    for (auto a : axes) out[a] = 1;
    return out;
}

Shape squeezed_shape(const Shape& s, const std::vector<std::size_t>& axes) {
    Shape out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(s[i]);
    }
    return out;
}

Shape concat_shapes(const Shape& lead, const Shape& core) {
    Shape out = lead;
    out.insert(out.end(), core.begin(), core.end());
    return out;
}

Shape batched_shape(std::size_t k, const Shape& s) {
    Shape out{k};
    out.insert(out.end(), s.begin(), s.end());
    return out;
}

}  // namespace adg
