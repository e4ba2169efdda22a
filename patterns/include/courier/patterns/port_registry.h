// SPDX-License-Identifier: MIT
// Names such as "/synth/voice/3" mapped to ports, changed on the control thread and read wait-free from each
// sender thread through an immutable snapshot swapped in O(1) (docs/patterns/ports.md).
#pragma once

#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/patterns/channel.h>
#include <courier/patterns/port.h>
#include <courier/patterns/port_table.h>
#include <courier/patterns/swap_and_retire.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier {

template <class Message>
class registry_reader;

namespace detail {

// What one reader sees: names sorted for binary search, and this reader's own channel to each port. Built on the
// control thread, never changed after, and destroyed there (swap_and_retire sends it back).
template <class Message>
struct registry_snapshot
{
    std::vector<std::string> names;             // sorted
    std::vector<channel<Message>> channels;     // channels[i] is this reader's lane into the port named names[i]
};

// One reader's state; its address is stable, so a registry_reader can point at it.
template <class Message>
struct registry_reader_state
{
    explicit registry_reader_state(std::size_t max_in_flight)
        : snapshots(std::make_unique<registry_snapshot<Message>>(), max_in_flight)
    {
    }

    swap_and_retire<registry_snapshot<Message>> snapshots;
    counter unknown;                        // written by the reader thread only
    std::uint64_t published_version = 0;    // written by the control thread only
};

}  // namespace detail

/// A directory of ports by name, for the threads that send to them (the audio thread, the GUI, an OSC or MIDI
/// thread). Each such *reader* thread is declared at setup with add_reader(), before any name is added, because
/// every port added then reserves one lane per reader (lanes are single-producer: a reader sends to every port
/// it finds through its own lane). The control thread changes the names with add() and remove() and makes the
/// change visible with publish(); each reader adopts the newest snapshot with refresh() (an O(1) swap, through
/// swap_and_retire) and looks names up in it wait-free and without allocating.
///
/// The registry does not own ports: a port that closes stays listed, and sends to it answer `gone` until
/// its name is removed. Old snapshots die on the control thread, in publish() or collect().
template <class Message>
class port_registry
{
public:
    /// An empty registry; each reader may have up to `max_in_flight` snapshots published and not yet collected.
    /// Throws std::invalid_argument when `max_in_flight` is 0 or above 2^32 - 1.
    /// Thread: setup. Real-time: no (allocates).
    explicit port_registry(std::size_t max_in_flight = 4) : in_flight(checked(max_in_flight)) {}

    port_registry(const port_registry&) = delete;
    port_registry& operator=(const port_registry&) = delete;

    /// Destroys every snapshot, on this thread. No reader may be used after.
    /// Thread: setup (the control thread, after the readers have stopped). Real-time: no (frees).
    ~port_registry() = default;  // ✗ every reader's current and retired snapshots die here

    /// Declares one more sender thread and returns its reader. Throws std::logic_error once a name has been
    /// added: declare every reader first.
    /// Thread: setup. Real-time: no (allocates).
    [[nodiscard]] registry_reader<Message> add_reader();

    /// Lists `target` under `name`, connecting one of its lanes per reader; visible after the next publish().
    /// Throws std::invalid_argument for an empty or taken name, std::logic_error for a closed port and
    /// std::length_error when the port has fewer free lanes than there are readers (nothing changes then).
    /// Thread: control. Real-time: no (allocates).
    void add(std::string name, port<Message>& target);

    /// Removes `name`; returns false when it is not listed. Visible after the next publish(). The lanes it had
    /// reserved stay connected (a port never gives a lane back).
    /// Thread: control. Real-time: no (frees).
    bool remove(std::string_view name);

    /// The port listed under `name`, as the control thread sees it now.
    /// Thread: control. Real-time: no (not meant for the audio thread; use a reader).
    [[nodiscard]] std::optional<port_address> address_of(std::string_view name) const;

    /// Destroys the snapshots readers have replaced (collect()), then hands each reader whose snapshot is older
    /// than the current names a new one. Returns true when every reader has been handed the current names; false
    /// when a reader still holds `max_in_flight` snapshots (it has not refreshed): call again later.
    /// Thread: control. Real-time: no (allocates, frees).
    bool publish();

    /// Destroys, here, the snapshots readers have replaced; returns how many.
    /// Thread: control. Real-time: no (frees).
    std::size_t collect() noexcept;

    /// How many names are listed now (on the control side).
    /// Thread: control. Real-time: wait-free.
    [[nodiscard]] std::size_t size() const noexcept COURIER_REALTIME { return entries.size(); }

    /// How many readers were declared.
    /// Thread: control. Real-time: wait-free.
    [[nodiscard]] std::size_t reader_count() const noexcept COURIER_REALTIME { return readers.size(); }

    /// Lets new threads take over the control role and each reader's role (say the audio device restarted its
    /// callback on a new thread). The old threads must have stopped using the registry.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        for (auto& reader : readers)
            reader->snapshots.reset_thread_roles();
    }

private:
    static std::size_t checked(std::size_t max_in_flight)
    {
        // Each reader's swap_and_retire is sized by it (made later, in add_reader): refuse an absurd one now.
        if (max_in_flight == 0 || max_in_flight > UINT32_MAX)
            throw std::invalid_argument("courier::port_registry: max_in_flight must be between 1 and 2^32 - 1");
        return max_in_flight;
    }

    struct entry
    {
        port_address address;
        std::vector<channel<Message>> per_reader;  // per_reader[i]: reader i's lane into the port
    };

    // Written at setup only.
    const std::size_t in_flight;
    std::vector<std::unique_ptr<detail::registry_reader_state<Message>>> readers;

    // Written by the control thread only.
    std::map<std::string, entry, std::less<>> entries;
    std::uint64_t version = 1;  // bumped by every change; readers start at 0, so the first publish() reaches all
};

/// One sender thread's view of a port_registry: the snapshot it adopted last, and its own channels. Move it to
/// its thread; only that thread calls refresh(), find() and try_send(). The registry must outlive it.
template <class Message>
class registry_reader
{
public:
    /// A reader of nothing; give it a value by moving a real one in.
    registry_reader() noexcept = default;

    /// Adopts the newest published snapshot, if any; returns true when it changed. The replaced snapshots go
    /// back to the control side to die. Costs a few pointer moves per snapshot published since the last call.
    /// Thread: the reader's thread. Real-time: wait-free.
    bool refresh() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(state != nullptr);
        const auto* previous = view;
        view = &state->snapshots.acquire();
        return view != previous;
    }

    /// This thread's channel to the port named `name` in the adopted snapshot, or nothing when the name is not
    /// listed. A binary search: O(log n) comparisons of the name, no allocation.
    /// Thread: the reader's thread. Real-time: wait-free.
    [[nodiscard]] std::optional<channel<Message>> find(std::string_view name) const noexcept COURIER_REALTIME;

    /// Sends `message` to the port named `name`: find() and channel::try_send in one. Answers `sent`, `full`,
    /// or `gone` both when no port is listed under `name` and when the listed port has closed: either way
    /// nothing receives it. A caller that must tell the two apart asks find() first, or compares counters:
    /// "no such name" is counted in unknown_names(), "closed" in port_table::gone(). `message` is
    /// untouched unless it answers `sent`.
    /// Thread: the reader's thread. Real-time: wait-free.
    [[nodiscard]] send_status try_send(std::string_view name, Message&& message) noexcept COURIER_REALTIME;

    /// How many names the adopted snapshot lists.
    /// Thread: the reader's thread. Real-time: wait-free.
    [[nodiscard]] std::size_t size() const noexcept COURIER_REALTIME { return view->names.size(); }

    /// How many try_send calls found no port under their name.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t unknown_names() const noexcept COURIER_REALTIME
    {
        return state->unknown.load();
    }

    /// True when this reader belongs to a registry.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return state != nullptr; }

private:
    friend class port_registry<Message>;
    explicit registry_reader(detail::registry_reader_state<Message>& s) noexcept
        : state(&s), view(&s.snapshots.current())
    {
    }

    detail::registry_reader_state<Message>* state = nullptr;
    const detail::registry_snapshot<Message>* view = nullptr;  // written by the reader's thread only
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Message>
registry_reader<Message> port_registry<Message>::add_reader()
{
    if (!entries.empty())
        throw std::logic_error("courier::port_registry: add_reader() after add(); declare every reader first");
    readers.push_back(std::make_unique<detail::registry_reader_state<Message>>(in_flight));
    // Built before any reader thread runs, so reading the initial (empty) snapshot here is setup.
    return registry_reader<Message>(*readers.back());
}

template <class Message>
void port_registry<Message>::add(std::string name, port<Message>& target)
{
    if (name.empty())
        throw std::invalid_argument("courier::port_registry: a name must not be empty");
    if (entries.find(name) != entries.end())
        throw std::invalid_argument("courier::port_registry: the name is already listed");
    if (!target.is_open())
        throw std::logic_error("courier::port_registry: the port is closed");
    if (target.lane_count() - target.connected() < readers.size())
        throw std::length_error("courier::port_registry: the port has fewer free lanes than there are readers");

    entry e;
    e.address = target.address();
    e.per_reader.reserve(readers.size());
    for (std::size_t i = 0; i < readers.size(); ++i)
        e.per_reader.push_back(target.connect());  // cannot throw: the free lanes were counted above
    entries.emplace(std::move(name), std::move(e));
    ++version;
}

template <class Message>
bool port_registry<Message>::remove(std::string_view name)
{
    const auto found = entries.find(name);
    if (found == entries.end())
        return false;
    entries.erase(found);  // ✗ the entry dies here, on the control thread
    ++version;
    return true;
}

template <class Message>
std::optional<port_address> port_registry<Message>::address_of(std::string_view name) const
{
    const auto found = entries.find(name);
    if (found == entries.end())
        return std::nullopt;
    return found->second.address;
}

template <class Message>
bool port_registry<Message>::publish()
{
    (void)collect();
    bool all_current = true;
    for (std::size_t i = 0; i < readers.size(); ++i)
    {
        auto& reader = *readers[i];
        if (reader.published_version == version)
            continue;
        auto fresh = std::make_unique<detail::registry_snapshot<Message>>();
        fresh->names.reserve(entries.size());
        fresh->channels.reserve(entries.size());
        for (const auto& [name, e] : entries)  // a std::map iterates in order, so the names come out sorted
        {
            fresh->names.push_back(name);
            fresh->channels.push_back(e.per_reader[i]);
        }
        if (reader.snapshots.try_publish(std::move(fresh)))
            reader.published_version = version;
        else
            all_current = false;  // ✗ `fresh` dies here, on the control thread; the reader is retried next time
    }
    return all_current;
}

template <class Message>
std::size_t port_registry<Message>::collect() noexcept
{
    std::size_t destroyed = 0;
    for (auto& reader : readers)
        destroyed += reader->snapshots.collect();  // ✗ replaced snapshots die here, on the control thread
    return destroyed;
}

template <class Message>
std::optional<channel<Message>> registry_reader<Message>::find(std::string_view name) const noexcept
{
    COURIER_EXPECTS(view != nullptr);
    const auto& names = view->names;
    const auto at = std::lower_bound(names.begin(), names.end(), name,
                                     [](const std::string& listed, std::string_view wanted) noexcept {
                                         return std::string_view(listed) < wanted;
                                     });
    if (at == names.end() || std::string_view(*at) != name)
        return std::nullopt;
    return view->channels[static_cast<std::size_t>(at - names.begin())];
}

template <class Message>
send_status registry_reader<Message>::try_send(std::string_view name, Message&& message) noexcept
{
    const auto target = find(name);
    if (!target)
    {
        state->unknown.add();  // this reader's thread is its one writer
        return send_status::gone;
    }
    return target->try_send(std::move(message));
}

}  // namespace courier
