// SPDX-License-Identifier: MIT
// The OSC endpoint's /load disk worker and the messages it exchanges with the network thread over a
// protocol::request_reply (docs/osc.md, "/load"). Private to courier_osc: no public header includes it.
#pragma once

#include <courier/contracts.h>
#include <courier/wakeup.h>
#include <courier/protocol/request_reply.h>

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <utility>

namespace courier::osc {

/// Why a /load failed (none: it did not).
enum class load_error : std::uint8_t
{
    none,
    cannot_open,
    too_long,
    read_error,
};

/// The reason word of a /fail /load reply.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] const char* load_error_name(load_error e) noexcept COURIER_REALTIME;

/// How many samples a sound of `frames` frames and `channels` channels holds, or nullopt when `channels` is not
/// positive or the samples would not fit one buffer (the load is refused as too_long: the product never wraps).
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::optional<std::size_t> sample_count(std::uint64_t frames, int channels) noexcept COURIER_REALTIME;

/// A /load request (request/reply with progress replies): made in the network thread's pool (the client's
/// credits), held by the disk worker until its final reply, and destroyed back on the network thread.
struct load_request
{
    load_request(std::filesystem::path p, std::uint64_t most) noexcept : path(std::move(p)), max_frames(most) {}
    std::filesystem::path path;
    std::uint64_t max_frames = 0;
};

/// The disk worker's replies: progress (fraction), then one final reply (done, or the error). Made in the worker's
/// pool and destroyed back on the worker.
struct load_reply
{
    float fraction = 0.0F;  // progress: how much is read
    load_error error = load_error::none;
    std::uint64_t frames = 0;
    std::int32_t channels = 0;
    double sample_rate = 0.0;
};

/// The /load server side: the disk worker thread runs run(), which takes one request at a time from `server`,
/// reads the file with libsndfile and answers with progress replies and exactly one final reply.
class load_worker
{
public:
    /// A worker serving `server` until `stop_requested` is set; both must outlive it.
    /// Thread: setup. Real-time: no (allocates).
    load_worker(protocol::request_reply<load_request, load_reply>::server_type& server,
                const std::atomic<bool>& stop_requested);

    /// Wakes the worker at once (a load was started, or the endpoint stops).
    /// Thread: the network thread, or setup (stop). Real-time: no (locks, syscall).
    void wake();

    /// The worker thread's loop: returns soon after `stop_requested` is set (and wake()).
    /// Thread: the disk worker. Real-time: no (blocks, reads files, allocates).
    void run() noexcept;

private:
    void run_load(std::uint64_t id, const std::filesystem::path& path, std::uint64_t max_frames) noexcept;

    protocol::request_reply<load_request, load_reply>::server_type* server;
    const std::atomic<bool>* stop_requested;  // set by stop(); a flag, the joins synchronise

    // --- the disk worker's own
    wakeup worker_wake;
    std::uint64_t progress_dropped = 0;  // progress replies refused for room (droppable; the final never is)
};

}  // namespace courier::osc
