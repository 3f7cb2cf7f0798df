#include "output.hpp"

#include "machine.hpp"

namespace adg::bench {

Output::Output(std::string program, bool json) : program_(std::move(program)), json_(json) {
    context_["program"] = program_;
    context_["cpu"] = cpu_model();
    context_["cores"] = cores();
}

void Output::context(const std::string& key, const nlohmann::json& value) { context_[key] = value; }

void Output::preamble(const std::string& title) {
    if (json_) return;
    std::printf("%s\n", title.c_str());
    std::printf("machine: %s, %u cores\n", cpu_model().c_str(), cores());
    std::string ctx;
    for (const auto& [k, v] : context_.items()) {
        if (k == "program" || k == "cpu" || k == "cores") continue;
        ctx += (ctx.empty() ? "" : ", ") + k + " " + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    if (!ctx.empty()) std::printf("%s\n", ctx.c_str());
}

void Output::text(const std::string& line) {
    if (!json_) std::printf("%s\n", line.c_str());
}

void Output::row(const nlohmann::json& fields, const std::string& line) {
    if (!json_) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        return;
    }
    nlohmann::json j = context_;
    for (const auto& [k, v] : fields.items()) j[k] = v;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
}

}  // namespace adg::bench
