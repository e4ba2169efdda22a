// SPDX-License-Identifier: MIT
// A wait-free SPSC ring of variable-length messages, each a header and a payload written contiguously
// (docs/patterns/byte_ring.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/role_guard.h>
#include <courier/send_status.h>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

class byte_ring_writer;
class byte_ring_reader;

/// A message as the reader sees it: the writer's tag and a view of the payload, valid until release().
struct ring_message
{
    std::uint32_t tag;
    std::span<const std::byte> payload;
};

/// Space reserved by byte_ring_writer::try_begin. Fill `payload`, then commit. `status` is `sent` when the
/// space is reserved, `full` (not enough free space now; try again after the reader catches up) or
/// `too_large` (larger than max_payload(): it will never fit, whatever the reader does).
struct write_grant
{
    send_status status = send_status::full;
    std::span<std::byte> payload;

    /// True when the space was reserved.
    /// Thread: producer. Real-time: wait-free.
    explicit operator bool() const noexcept COURIER_REALTIME { return status == send_status::sent; }

private:
    friend class byte_ring_writer;
    std::uint64_t record_start = 0;  // ring position of the record's header
};

/// Counters of a byte ring; each read with a relaxed load.
struct byte_ring_stats
{
    std::size_t capacity_bytes = 0;
    std::uint64_t written = 0;           ///< messages committed
    std::uint64_t refused_full = 0;      ///< try_begin/try_write refused for lack of space
    std::uint64_t refused_too_large = 0;  ///< refused because larger than max_payload()
    std::uint64_t high_water_bytes = 0;  ///< most bytes in use at once, headers and padding included
};

/// A one-way queue of variable-length messages in one block of bytes. Each message is an 8-byte header
/// (payload size, tag) followed by its payload, padded to 8 bytes, always contiguous in memory: a message
/// that would straddle the end of the buffer is written at the start instead, behind a wrap marker. A
/// payload larger than max_payload() (half the ring less the 8-byte header) is refused as `too_large`, because
/// it could not be placed at every read position. Payloads are 8-byte aligned.
///
/// The ring must outlive both ends; it allocates its buffer in the constructor and frees it on the thread
/// that destroys it.
class byte_ring
{
public:
    /// Creates a ring of at least `capacity_bytes` bytes (rounded up to a power of two, at least 64).
    /// Thread: setup. Real-time: no (allocates).
    /// Throws std::invalid_argument above 2 GiB.
    explicit byte_ring(std::size_t capacity_bytes)
        : size(checked(capacity_bytes)), buffer(std::make_unique<std::uint64_t[]>(size / sizeof(std::uint64_t)))
    {
    }

    byte_ring(const byte_ring&) = delete;
    byte_ring& operator=(const byte_ring&) = delete;

    /// Hands out the writing end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] byte_ring_writer writer();

    /// Hands out the reading end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] byte_ring_reader reader();

    /// The buffer's size in bytes.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return size; }

    /// The largest payload a message may have.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t max_payload() const noexcept COURIER_REALTIME { return size / 2 - header_size; }

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] byte_ring_stats stats() const noexcept COURIER_REALTIME
    {
        byte_ring_stats s;
        s.capacity_bytes = size;
        s.written = writer_side.written.load();
        s.refused_full = writer_side.refused_full.load();
        s.refused_too_large = writer_side.refused_too_large.load();
        s.high_water_bytes = writer_side.high_water.load();
        return s;
    }

private:
    friend class byte_ring_writer;
    friend class byte_ring_reader;

    static constexpr std::size_t header_size = 8;
    static constexpr std::uint32_t wrap_marker = 0xFFFF'FFFFu;

    struct header
    {
        std::uint32_t payload_size;
        std::uint32_t tag;
    };

    static std::size_t checked(std::size_t capacity_bytes)
    {
        if (capacity_bytes > std::size_t{1} << 31)
            throw std::invalid_argument("courier::byte_ring: capacity above 2 GiB");
        return std::bit_ceil(capacity_bytes < 64 ? std::size_t{64} : capacity_bytes);
    }

    static constexpr std::uint64_t record_size(std::size_t payload_size) noexcept
    {
        return header_size + ((payload_size + 7u) & ~std::uint64_t{7});
    }

    std::byte* at(std::uint64_t position) noexcept COURIER_REALTIME
    {
        return reinterpret_cast<std::byte*>(buffer.get()) + (position & (size - 1));
    }

    const std::size_t size;
    const std::unique_ptr<std::uint64_t[]> buffer;  // uint64_t elements keep every record 8-byte aligned

    // Written by the writer thread only.
    struct alignas(cache_line_size) writer_state
    {
        std::atomic<std::uint64_t> write_position{0};
        std::uint64_t known_read_position = 0;  // a stale copy of reader_side.read_position
        counter written;
        counter refused_full;
        counter refused_too_large;
        counter high_water;
        bool grant_open = false;
    } writer_side;

    // Written by the reader thread only.
    struct alignas(cache_line_size) reader_state
    {
        std::atomic<std::uint64_t> read_position{0};
        std::uint64_t known_write_position = 0;  // a stale copy of writer_side.write_position
        std::uint64_t peeked_end = 0;            // where the message returned by peek() ends; 0 when none
    } reader_side;

    // The ends' role guards, each on a line of its own: every call writes its end's guard, and the other side
    // polls the positions above, which must not share a line with it.
    alignas(cache_line_size) role_guard writer_guard{"courier::byte_ring", "writer"};
    alignas(cache_line_size) role_guard reader_guard{"courier::byte_ring", "reader"};

    // Written at setup only.
    bool writer_taken = false;
    bool reader_taken = false;
};

/// The writing end of a byte ring.
class byte_ring_writer
{
public:
    byte_ring_writer() noexcept = default;

    /// Reserves room for a message with `tag` and `payload_size` bytes of payload. On success the grant's
    /// payload is yours to fill until commit(); otherwise its status says why (full or too_large). At most
    /// one grant is open at a time.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] write_grant try_begin(std::uint32_t tag, std::size_t payload_size) noexcept COURIER_REALTIME;

    /// Publishes the message reserved by `grant`, shortened to `used_size` bytes of payload if given
    /// (at most the size reserved).
    /// Thread: producer. Real-time: wait-free.
    void commit(const write_grant& grant, std::size_t used_size) noexcept COURIER_REALTIME;
    void commit(const write_grant& grant) noexcept COURIER_REALTIME { commit(grant, grant.payload.size()); }

    /// Copies `payload` into the ring as one message with `tag`, or says why it could not.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] send_status try_write(std::uint32_t tag, std::span<const std::byte> payload) noexcept COURIER_REALTIME
    {
        write_grant grant = try_begin(tag, payload.size());
        if (!grant)
            return grant.status;
        if (!payload.empty())
            std::memcpy(grant.payload.data(), payload.data(), payload.size());
        commit(grant);
        return send_status::sent;
    }

    /// Copies a trivially copyable value into the ring as one message with `tag`.
    /// Thread: producer. Real-time: wait-free.
    template <class T>
        requires std::is_trivially_copyable_v<T>
    [[nodiscard]] send_status try_write_value(std::uint32_t tag, const T& value) noexcept COURIER_REALTIME
    {
        return try_write(tag, std::as_bytes(std::span<const T, 1>(&value, 1)));
    }

    /// True when this end belongs to a ring.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return ring != nullptr; }

    byte_ring_writer(byte_ring_writer&& other) noexcept : ring(std::exchange(other.ring, nullptr)) {}
    byte_ring_writer& operator=(byte_ring_writer&& other) noexcept
    {
        if (this != &other)
            ring = std::exchange(other.ring, nullptr);
        return *this;
    }

private:
    friend class byte_ring;
    explicit byte_ring_writer(byte_ring& r) noexcept : ring(&r) {}
    byte_ring* ring = nullptr;
};

/// The reading end of a byte ring.
class byte_ring_reader
{
public:
    byte_ring_reader() noexcept = default;

    /// The oldest message, or nothing when the ring is empty. The view stays valid until release(); calling
    /// peek() again before release() returns the same message.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] std::optional<ring_message> peek() noexcept COURIER_REALTIME;

    /// Frees the message returned by the last peek().
    /// Thread: consumer. Real-time: wait-free.
    void release() noexcept COURIER_REALTIME;

    /// Copies the payload of `message` into a T when the sizes match exactly.
    /// Thread: consumer. Real-time: wait-free.
    template <class T>
        requires(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>)
    [[nodiscard]] static std::optional<T> value_of(const ring_message& message) noexcept COURIER_REALTIME
    {
        if (message.payload.size() != sizeof(T))
            return std::nullopt;
        T value;
        std::memcpy(&value, message.payload.data(), sizeof(T));
        return value;
    }

    /// True when this end belongs to a ring.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return ring != nullptr; }

    byte_ring_reader(byte_ring_reader&& other) noexcept : ring(std::exchange(other.ring, nullptr)) {}
    byte_ring_reader& operator=(byte_ring_reader&& other) noexcept
    {
        if (this != &other)
            ring = std::exchange(other.ring, nullptr);
        return *this;
    }

private:
    friend class byte_ring;
    explicit byte_ring_reader(byte_ring& r) noexcept : ring(&r) {}
    byte_ring* ring = nullptr;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

inline byte_ring_writer byte_ring::writer()
{
    if (writer_taken)
        throw std::logic_error("courier::byte_ring: writer() called twice");
    writer_taken = true;
    return byte_ring_writer(*this);
}

inline byte_ring_reader byte_ring::reader()
{
    if (reader_taken)
        throw std::logic_error("courier::byte_ring: reader() called twice");
    reader_taken = true;
    return byte_ring_reader(*this);
}

inline write_grant byte_ring_writer::try_begin(std::uint32_t tag, std::size_t payload_size) noexcept
{
    COURIER_EXPECTS(ring != nullptr);
    auto& w = ring->writer_side;
    const role_guard::scope held(ring->writer_guard);
    COURIER_EXPECTS(!w.grant_open);

    write_grant grant;
    if (payload_size > ring->max_payload())
    {
        w.refused_too_large.add();
        grant.status = send_status::too_large;
        return grant;
    }

    const std::uint64_t position = w.write_position.load(std::memory_order_relaxed);  // only we store it
    const std::uint64_t contiguous = ring->size - (position & (ring->size - 1));
    const std::uint64_t record = byte_ring::record_size(payload_size);
    // A record never straddles the end: if it does not fit before the end, skip to the start.
    const std::uint64_t skip = record > contiguous ? contiguous : 0;
    const std::uint64_t needed = skip + record;

    if (position + needed - w.known_read_position > ring->size)
    {
        // Pairs with the release store in release(): the bytes up to read_position are ours to overwrite.
        w.known_read_position = ring->reader_side.read_position.load(std::memory_order_acquire);
        if (position + needed - w.known_read_position > ring->size)
        {
            w.refused_full.add();
            grant.status = send_status::full;
            return grant;
        }
    }

    if (skip != 0)
    {
        const byte_ring::header marker{byte_ring::wrap_marker, 0};
        std::memcpy(ring->at(position), &marker, sizeof marker);
    }
    const std::uint64_t record_start = position + skip;
    const byte_ring::header h{static_cast<std::uint32_t>(payload_size), tag};
    std::memcpy(ring->at(record_start), &h, sizeof h);

    grant.status = send_status::sent;
    grant.payload = std::span<std::byte>(ring->at(record_start) + byte_ring::header_size, payload_size);
    grant.record_start = record_start;
    w.grant_open = true;
    return grant;
}

inline void byte_ring_writer::commit(const write_grant& grant, std::size_t used_size) noexcept
{
    auto& w = ring->writer_side;
    const role_guard::scope held(ring->writer_guard);
    COURIER_EXPECTS(w.grant_open && grant.status == send_status::sent && used_size <= grant.payload.size());
    if (used_size != grant.payload.size())
    {
        const byte_ring::header h{static_cast<std::uint32_t>(used_size),
                                  reinterpret_cast<const byte_ring::header*>(ring->at(grant.record_start))->tag};
        std::memcpy(ring->at(grant.record_start), &h, sizeof h);
    }
    const std::uint64_t end = grant.record_start + byte_ring::record_size(used_size);
    // Pairs with the acquire load in peek(): the header and payload written above become visible.
    w.write_position.store(end, std::memory_order_release);
    w.grant_open = false;
    w.written.add();

    const std::uint64_t in_use = end - w.known_read_position;  // an upper bound: the reader may be further on
    if (in_use > w.high_water.load())
    {
        w.known_read_position = ring->reader_side.read_position.load(std::memory_order_acquire);  // as above
        w.high_water.raise_to(end - w.known_read_position);
    }
}

inline std::optional<ring_message> byte_ring_reader::peek() noexcept
{
    COURIER_EXPECTS(ring != nullptr);
    auto& r = ring->reader_side;
    const role_guard::scope held(ring->reader_guard);

    std::uint64_t position = r.read_position.load(std::memory_order_relaxed);  // only we store it
    if (position == r.known_write_position)
    {
        // Pairs with the release store in commit(): everything up to write_position is written.
        r.known_write_position = ring->writer_side.write_position.load(std::memory_order_acquire);
        if (position == r.known_write_position)
            return std::nullopt;
    }

    byte_ring::header h;
    std::memcpy(&h, ring->at(position), sizeof h);
    if (h.payload_size == byte_ring::wrap_marker)
    {
        // The writer skipped to the start; the real record follows there, committed together with the marker.
        position += ring->size - (position & (ring->size - 1));
        std::memcpy(&h, ring->at(position), sizeof h);
    }
    r.peeked_end = position + byte_ring::record_size(h.payload_size);
    return ring_message{h.tag, std::span<const std::byte>(ring->at(position) + byte_ring::header_size, h.payload_size)};
}

inline void byte_ring_reader::release() noexcept
{
    auto& r = ring->reader_side;
    const role_guard::scope held(ring->reader_guard);
    COURIER_EXPECTS(r.peeked_end != 0);
    // Pairs with the acquire loads in try_begin and commit: the writer may now reuse these bytes.
    r.read_position.store(r.peeked_end, std::memory_order_release);
    r.peeked_end = 0;
}

}  // namespace courier
