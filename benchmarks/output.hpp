#pragma once
/// \file Results as a readable table or, with --json, one JSON object per result line; either way every
/// program states its dtype, thread count and machine.

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace adg::bench {

/// printf into a std::string.
template <class... A>
std::string format(const char* fmt, A... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

/// Where a benchmark's results go.
class Output {
public:
    /// Output of `program` ("modes", "mlp", ...); JSON lines if `json`, else a table.
    Output(std::string program, bool json);
    /// A field stated once in the table's preamble and attached to every JSON line (dtype, threads, ...).
    void context(const std::string& key, const nlohmann::json& value);
    /// Prints the title, machine and context (table mode); call after the context is set.
    void preamble(const std::string& title);
    /// A line of text (table mode only).
    void text(const std::string& line);
    /// One result: `fields` plus the context as a JSON line, or `line` in table mode.
    void row(const nlohmann::json& fields, const std::string& line);
    /// True in JSON mode.
    bool json() const { return json_; }

private:
    std::string program_;
    bool json_;
    nlohmann::json context_ = nlohmann::json::object();
};

}  // namespace adg::bench
