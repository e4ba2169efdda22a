// SPDX-License-Identifier: MIT
// The exception every courier::audio driver throws at setup: what went wrong, in words (audio/README.md).
#pragma once

#include <stdexcept>
#include <string>

namespace courier::audio {

/// Thrown by a driver's setup calls (listing, opening, starting, stopping, writing a file) with a message
/// that names what was asked for and why it failed: no such host API or device (with the ones there are),
/// an unsupported sample rate, PortAudio's or libsndfile's own error text. Never thrown on the audio thread.
class driver_error : public std::runtime_error
{
public:
    /// Makes the error with its message.
    /// Thread: any. Real-time: no (allocates).
    explicit driver_error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace courier::audio
