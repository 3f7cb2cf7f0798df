// Installed-package smoke test: y = sum(tanh(x) * x), reverse sweep, compare with dy/dx = tanh(x) + x * (1 -
// tanh(x)^2).
// xtensor first, as a user may write it: adgraph::adgraph force-includes adgraph's allocator header before it, so
// xt::xarray is the library's type (tensor/array.hpp's static_assert stops the build otherwise).
#include <xtensor/xarray.hpp>

#include <adgraph/adgraph.hpp>

#include <cmath>
#include <cstdio>

int main() {
    const double xs[] = {0.5, -1.0, 2.0};
    adg::Tensor x = adg::Tensor::from({xs[0], xs[1], xs[2]}, adg::f64).requires_grad();
    adg::Tensor y = adg::sum(adg::tanh(x) * x);
    y.backward();

    const adg::Tensor g = x.grad();
    if (g.size() != 3) {
        std::fprintf(stderr, "x.grad() has %zu elements, expected 3\n", g.size());
        return 1;
    }
    int failures = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        const double t = std::tanh(xs[i]);
        const double expected = t + xs[i] * (1.0 - t * t);
        const double got = g.value().flat(i);
        const bool ok = std::abs(got - expected) <= 1e-12 * (1.0 + std::abs(expected));
        std::printf("x[%zu] = %+.3f  grad %+.15f  expected %+.15f  %s\n", i, xs[i], got, expected,
                    ok ? "ok" : "MISMATCH");
        failures += ok ? 0 : 1;
    }
    return failures == 0 ? 0 : 1;
}
