#pragma once
/// \file Directions: a batch of k tangents or cotangents that is either dense or sparse rows, the form basis seeds
/// have and keep through elementwise and linear-layer rules; sweeps use it to skip arithmetic on known zeros.

#include <memory>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// k directions of a value of shape S: dense, a tensor (k, S...), or sparse rows, where direction r is zero except
/// in row index[r] along axis 0 of S, which holds values[r] (values: (k, S[1:]...)). A chunk of the identity over
/// S is sparse rows (values: ones, or unit rows), and so is what an elementwise rule makes of it (d ⊙ e_r).
/// Sweeps only build sparse rows when they are not recorded (see docs/design.md, "Structured seeds").
class Directions {
public:
    /// No directions: an absent (symbolic) zero.
    Directions() = default;
    /// Dense directions, shape (k, S...).
    explicit Directions(Tensor dense) : values_(std::move(dense)) {}
    /// Sparse rows of a value with `rows` rows: direction r is values[r] placed at row index[r], zero elsewhere.
    static Directions sparse_rows(std::shared_ptr<const std::vector<std::size_t>> index, Tensor values,
                                  std::size_t rows);
    /// Basis directions from..from+count-1 over the elements of a value of `shape` (rows of the identity): sparse
    /// rows when the value has an axis, dense for a 0-d value.
    static Directions basis(const Shape& shape, Dtype dtype, std::size_t from, std::size_t count);

    /// True unless these are no directions.
    bool defined() const { return values_.defined(); }
    /// True for sparse rows.
    bool sparse() const { return static_cast<bool>(index_); }
    /// The dense batch, or the sparse rows' values (k, S[1:]...).
    const Tensor& values() const { return values_; }
    /// Sparse rows: the row each direction occupies.
    const std::vector<std::size_t>& index() const { return *index_; }
    /// Sparse rows: the number of rows of the value (S[0]).
    std::size_t rows() const { return rows_; }
    /// The number of directions k.
    std::size_t count() const { return values_.shape()[0]; }
    /// S, the shape of the value these are directions of.
    Shape value_shape() const;
    /// The dense batch (k, S...); sparse rows are scattered into zeros.
    Tensor dense() const;
    /// The same rows with other values (k, S'[1:]...) for a value with `rows` rows: what a rule that acts on each
    /// row separately makes of sparse rows.
    Directions with_values(Tensor values, std::size_t rows) const;
    /// with_values() keeping the row count.
    Directions with_values(Tensor values) const { return with_values(std::move(values), rows_); }
    /// The rows of `a` (a tensor of shape S, broadcast to it if needed) that the directions occupy: (k, S[1:]...).
    Tensor gather(const Tensor& a) const;
    /// True if both are sparse rows at the same index with the same row count.
    bool same_rows(const Directions& other) const;

private:
    std::shared_ptr<const std::vector<std::size_t>> index_;
    Tensor values_;
    std::size_t rows_ = 0;
};

/// a + b: sparse rows stay sparse when both occupy the same rows; otherwise both are made dense.
Directions operator+(const Directions& a, const Directions& b);

}  // namespace adg
