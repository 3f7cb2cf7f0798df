#include <adgraph/autodiff/directions.hpp>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/ops.hpp>

namespace adg {

Directions Directions::sparse_rows(std::shared_ptr<const std::vector<std::size_t>> index, Tensor values,
                                   std::size_t rows) {
    Directions d;
    d.index_ = std::move(index);
    d.values_ = std::move(values);
    d.rows_ = rows;
    return d;
}

Directions Directions::basis(const Shape& shape, Dtype dtype, std::size_t from, std::size_t count) {
    const std::size_t n = numel(shape);
    if (shape.empty()) return Directions(Tensor(Array::full({count}, 1.0, dtype)));
    const Shape row(shape.begin() + 1, shape.end());
    const std::size_t width = numel(row);
    auto index = std::make_shared<std::vector<std::size_t>>(count);
    Array values = Array::zeros(batched_shape(count, row), dtype);
    values.visit_mut([&](auto& a) {
        for (std::size_t r = 0; r < count && from + r < n; ++r) {
            (*index)[r] = (from + r) / width;
            a.data()[r * width + (from + r) % width] = 1;
        }
    });
    return sparse_rows(std::move(index), Tensor(std::move(values)), shape[0]);
}

Shape Directions::value_shape() const {
    const Shape& v = values_.shape();
    if (!sparse()) return Shape(v.begin() + 1, v.end());
    Shape s(v.begin(), v.end());
    s[0] = rows_;
    return s;
}

Tensor Directions::dense() const {
    if (!sparse()) return values_;
    const std::size_t k = count();
    const Shape row(values_.shape().begin() + 1, values_.shape().end());
    const std::size_t width = numel(row);
    const std::vector<std::size_t>& index = *index_;
    if (grad_enabled() && values_.needs_grad()) {
        // Recorded: the same scatter as an op, so the result stays connected to the values.
        std::vector<std::size_t> at(k);
        for (std::size_t r = 0; r < k; ++r) at[r] = r * rows_ + index[r];
        const Tensor flat = index_add(reshape(values_, {k, width}), 0, at, k * rows_);
        return reshape(flat, batched_shape(k, value_shape()));
    }
    Array out = Array::zeros(batched_shape(k, value_shape()), values_.dtype());
    out.visit_mut([&](auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const T* src = values_.data<T>().data();
        for (std::size_t r = 0; r < k; ++r) {
            std::copy(src + r * width, src + (r + 1) * width, a.data() + (r * rows_ + index[r]) * width);
        }
    });
    return Tensor(std::move(out));
}

Directions Directions::with_values(Tensor values, std::size_t rows) const {
    return sparse_rows(index_, std::move(values), rows);
}

Tensor Directions::gather(const Tensor& a) const {
    const Shape s = value_shape();
    return index_select(a.shape() == s ? a : broadcast_to(a, s), 0, *index_);
}

bool Directions::same_rows(const Directions& other) const {
    return sparse() && other.sparse() && rows_ == other.rows_ && (index_ == other.index_ || *index_ == *other.index_);
}

Directions operator+(const Directions& a, const Directions& b) {
    if (a.same_rows(b)) return a.with_values(a.values() + b.values());
    return Directions(a.dense() + b.dense());
}

}  // namespace adg
