// Every op in every op list, every sample: gradcheck of JVP and VJP (float64), the dot test (float64 and
// float32), and batched directions against stacked single sweeps (bitwise). Listing an op is all it takes.

#include <doctest/doctest.h>

#include <set>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

std::vector<Tensor> to_dtype(const std::vector<Tensor>& xs, Dtype d) {
    std::vector<Tensor> out;
    for (const auto& x : xs) out.push_back(Tensor(x.value().to(d)));
    return out;
}

template <class Check>
void for_each_sample(const OpList& list, Check&& check) {
    Generator gen(1234);
    REQUIRE(!list.empty());
    for (const auto& op : list) {
        const auto samples = op.samples(gen);
        REQUIRE_MESSAGE(!samples.empty(), op.name << " has no samples");
        for (const auto& s : samples) {
            CAPTURE(s.label);
            check(s, gen);
        }
    }
}

void check_gradcheck(const OpList& list) {
    for_each_sample(list, [](const OpSample& s, Generator&) {
        const CheckResult j = gradcheck_jvp(s.fn, s.inputs);
        CHECK_MESSAGE(j.ok, j.message);
        const CheckResult v = gradcheck_vjp(s.fn, s.inputs);
        CHECK_MESSAGE(v.ok, v.message);
    });
}

void check_dot(const OpList& list) {
    for_each_sample(list, [](const OpSample& s, Generator& gen) {
        const CheckResult r64 = dot_test(s.fn, s.inputs, gen);
        CHECK_MESSAGE(r64.ok, r64.message);
        const CheckResult r32 = dot_test(s.fn, to_dtype(s.inputs, f32), gen);
        CHECK_MESSAGE(r32.ok, r32.message);
    });
}

void check_batched(const OpList& list) {
    for_each_sample(list, [](const OpSample& s, Generator& gen) {
        const CheckResult r = batched_test(s.fn, s.inputs, gen, 3);
        CHECK_MESSAGE(r.ok, r.message);
        const CheckResult r32 = batched_test(s.fn, to_dtype(s.inputs, f32), gen, 4);
        CHECK_MESSAGE(r32.ok, r32.message);
    });
}

struct Named {
    const char* name;
    const OpList& (*list)();
};

const Named lists[] = {{"elementwise", elementwise_ops}, {"binary", binary_ops},       {"shape", shape_ops},
                       {"reduction", reduction_ops},     {"matmul", matmul_ops},       {"composite", composite_ops}};

}  // namespace

TEST_CASE("op lists: every op has a unique name and samples") {
    const OpList all = all_ops();
    CHECK(all.size() >= 45);
    std::set<std::string> names;
    for (const auto& op : all) CHECK_MESSAGE(names.insert(op.name).second, "listed twice: " << op.name);
}

TEST_CASE("ops: gradcheck of JVP and VJP against central differences (float64)") {
    for (const auto& l : lists) {
        SUBCASE(l.name) { check_gradcheck(l.list()); }
    }
}

TEST_CASE("ops: dot test <u, J v> = <J^T u, v> (float64 rtol 1e-12, float32 rtol 1e-4)") {
    for (const auto& l : lists) {
        SUBCASE(l.name) { check_dot(l.list()); }
    }
}

TEST_CASE("ops: a batch of k directions equals k single sweeps stacked, bitwise") {
    for (const auto& l : lists) {
        SUBCASE(l.name) { check_batched(l.list()); }
    }
}
