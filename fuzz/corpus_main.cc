// Replays corpus files through a fuzz target's LLVMFuzzerTestOneInput, so a
// fuzz target is also an ordinary test (and its committed crashes regression
// tests). Arguments: files or directories. Fails when it ran no input.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int ran = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(p)) {
        if (entry.is_regular_file()) ran += run_file(entry.path());
      }
    } else {
      ran += run_file(p);
    }
  }
  std::printf("%d corpus inputs replayed\n", ran);
  return ran > 0 ? 0 : 1;
}
