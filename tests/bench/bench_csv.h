// SPDX-License-Identifier: MIT
// Opening a benchmark's CSV file: its folder made first, failure as an exception naming the path
// (docs/performance.md).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace courier::bench {

/// Opens `path` for writing, creating its folder first. Throws std::runtime_error ("cannot write PATH: reason")
/// when it cannot be opened, or std::filesystem::filesystem_error when the folder cannot be made.
/// Thread: main. Real-time: no (file system calls).
inline std::FILE* open_csv(const std::string& path)
{
    const std::filesystem::path file(path);
    if (file.has_parent_path())
        std::filesystem::create_directories(file.parent_path());
    std::FILE* out = std::fopen(path.c_str(), "w");
    if (out == nullptr)
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    return out;
}

}  // namespace courier::bench
