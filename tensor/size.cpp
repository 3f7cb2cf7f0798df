#include <adgraph/tensor/size.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <adgraph/tensor/error.hpp>

namespace adg {

namespace {

std::size_t element_bytes(Dtype dtype) { return dtype == Dtype::f32 ? sizeof(float) : sizeof(double); }

// The byte count as text, or "more than <size_t max>" when it does not fit a size_t.
std::string bytes_str(const Shape& shape, Dtype dtype) {
    std::size_t n = element_bytes(dtype);
    for (auto d : shape) {
        if (__builtin_mul_overflow(n, d, &n)) {
            // A zero elsewhere in the shape makes the array empty, whatever the other sizes.
            for (auto e : shape) {
                if (e == 0) return "0";
            }
            return "more than " + std::to_string(std::numeric_limits<std::size_t>::max());
        }
    }
    return std::to_string(n);
}

}  // namespace

std::size_t max_array_bytes() { return static_cast<std::size_t>(PTRDIFF_MAX); }

std::size_t checked_bytes(const Shape& shape, Dtype dtype, const char* op) {
    std::size_t bytes = element_bytes(dtype);
    bool overflow = false;
    for (auto d : shape) overflow = __builtin_mul_overflow(bytes, d, &bytes) || overflow;
    if (overflow) {
        for (auto d : shape) {
            if (d == 0) return 0;
        }
    }
    if (overflow || bytes > max_array_bytes()) {
        throw value_error(std::string(op) + ": shape " + shape_str(shape) + " of " + dtype_name(dtype) + " needs " +
                          bytes_str(shape, dtype) + " bytes, more than one array can hold (" +
                          std::to_string(max_array_bytes()) +
                          "); check the sizes (a negative size converted to size_t becomes huge)");
    }
    return bytes;
}

void throw_out_of_memory(const Shape& shape, Dtype dtype, const char* op) {
    throw value_error(std::string(op) + ": out of memory for shape " + shape_str(shape) + " of " + dtype_name(dtype) +
                      " (" + bytes_str(shape, dtype) + " bytes); use smaller sizes" +
                      (dtype == Dtype::f64 ? " or float32" : "") +
                      ", free memory, or raise the memory limit (ulimit -v)");
}

}  // namespace adg
