// SPDX-License-Identifier: MIT
// The OSC endpoint's replies of osc_reply.h, built and serialised with liblo (the only file that includes it) and
// sent with sendto, or framed onto a TCP connection (docs/osc.md).
#include "osc_reply.h"

#include <courier/counter.h>

#include <lo/lo.h>

#include <string>
#include <type_traits>

namespace courier::osc {

static_assert(std::is_same_v<lo_message, void*>, "reply_builder keeps the lo_message as a void*");

reply_builder::reply_builder() : m(lo_message_new()) {}

reply_builder::~reply_builder()
{
    lo_message_free(m);
}

reply_builder& reply_builder::s(std::string_view v)
{
    const std::string text(v);
    lo_message_add_string(m, text.c_str());
    return *this;
}

reply_builder& reply_builder::i(std::int32_t v)
{
    lo_message_add_int32(m, v);
    return *this;
}

reply_builder& reply_builder::h(std::uint64_t v)
{
    lo_message_add_int64(m, static_cast<std::int64_t>(v));
    return *this;
}

reply_builder& reply_builder::f(double v)
{
    lo_message_add_float(m, static_cast<float>(v));
    return *this;
}

std::size_t reply_builder::serialise(const char* path, std::vector<char>& buffer)
{
    const std::size_t size = lo_message_length(m, path);
    if (size == 0 || size > buffer.size())
        return 0;
    std::size_t written = buffer.size();
    if (lo_message_serialise(m, path, buffer.data(), &written) == nullptr)
        return 0;
    return written;
}

reply_sender::reply_sender(counters& c, connection_table& s) : count(&c), streams(&s), buffer(2048) {}

void reply_sender::send(const peer& to, const char* path, reply_builder& b) noexcept
{
    try
    {
        const std::size_t size = b.serialise(path, buffer);
        if (size != 0 && to.stream != 0)
        {
            connection* c = streams->find(to.stream);
            const auto bytes = std::as_bytes(std::span<const char>(buffer.data(), size));
            if (c == nullptr || !streams->queue(*c, bytes))
            {
                if (c != nullptr)
                    count->stream_replies_dropped.add();  // the client does not read: drop, never wait
                count->replies_failed.add();
                return;
            }
            count->replies.add();
            return;
        }
        if (!to.answerable() || size == 0 || !send_to(to, std::span<const char>(buffer.data(), size)))
        {
            count->replies_failed.add();
            return;
        }
        count->replies.add();
    }
    catch (...)
    {
        count->replies_failed.add();
    }
}

void reply_sender::fail(const peer& to, std::string_view address, std::string_view reason) noexcept
{
    try
    {
        reply_builder b;
        b.s(address).s(reason);
        send(to, "/fail", b);
    }
    catch (...)
    {
        count->replies_failed.add();
    }
}

}  // namespace courier::osc
