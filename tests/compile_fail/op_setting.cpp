// An op whose kind setting is spelt right (ADG_CASE 0) or wrong (1: a misspelt setting call; 2: the old-style
// member `static Domain domian()`). tests/CMakeLists.txt builds each case: 0 must compile, 1 and 2 must fail with an
// error naming `domian`, so a misspelt setting can never fall back silently to the default domain.

#include <adgraph/autodiff/internal/op_samples.hpp>

namespace adg {
namespace {

// d/dx log x = 1 / x
struct MyLog {
#if ADG_CASE == 1
    static constexpr Elementwise kind = Elementwise().domian(0.2, 3.0);
#else
    static constexpr Elementwise kind = Elementwise().domain(0.2, 3.0);
#endif
#if ADG_CASE == 2
    static Domain domian() { return {0.2, 3.0}; }
#endif
    static constexpr const char* name = "my_log";
    template <class E>
    auto f(const E& x) const {
        return xt::log(x);
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return lit(x, 1.0) / x;
    }
};

}  // namespace

// The op applied and listed, so its rules and samples are instantiated.
Tensor my_log(const Tensor& x) { return apply(MyLog{}, x); }
OpInfo my_log_info() { return op_info<MyLog>(); }

}  // namespace adg
