// libFuzzer target: the input is a safetensors file's bytes, read by nn::load_safetensors.
#include <cstddef>
#include <cstdint>

#include <adgraph/nn/safetensors.hpp>
#include <adgraph/tensor/error.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = adg::fuzz::scratch("fuzz_checkpoint").write(data, size);
    try {
        const adg::nn::SafetensorsFile f = adg::nn::load_safetensors(path);
        // The tensors tile the data buffer, so together they can hold no more bytes than the file.
        std::size_t bytes = 0;
        for (const auto& [name, array] : f.tensors) bytes += array.size() * (array.dtype() == adg::f32 ? 4 : 8);
        adg::fuzz::expect(bytes <= size, "tensor bytes <= file size");
    } catch (const adg::error&) {
        // An expected rejection.
    }
    return 0;
}
