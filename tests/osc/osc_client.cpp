// SPDX-License-Identifier: MIT
// A small liblo client for the OSC integration test (docs/osc.md): sends a bundle with a time tag and checks, with
// /status requests, that the endpoint scheduled it at the matching engine frame and the engine applied it there;
// or asks /status over a Unix datagram socket.
//   courier_osc_client bundle <udp port> <seconds ahead>
//   courier_osc_client unix <socket path> <client socket path>
#include <lo/lo.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

namespace {

using status_map = std::map<std::string, double>;

struct reply_state
{
    bool got = false;
    status_map status;
};

int on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message, void* user)
{
    auto* state = static_cast<reply_state*>(user);
    if (std::string(path) != "/status")
        return 0;
    state->status.clear();
    for (int i = 0; i + 1 < argc; i += 2)
    {
        if (types[i] != 's')
            continue;
        const char t = types[i + 1];
        const double v = t == 'h' ? static_cast<double>(argv[i + 1]->h)
                         : t == 'i' ? static_cast<double>(argv[i + 1]->i)
                         : t == 'f' ? static_cast<double>(argv[i + 1]->f) : 0.0;
        state->status[&argv[i]->s] = v;
    }
    state->got = true;
    return 0;
}

bool ask_status(lo_address target, lo_server server, reply_state& state)
{
    state.got = false;
    lo_message m = lo_message_new();
    const int sent = lo_send_message_from(target, server, "/status", m);
    lo_message_free(m);
    if (sent < 0)
        return false;
    for (int i = 0; i < 40 && !state.got; ++i)
        lo_server_recv_noblock(server, 100);
    return state.got;
}

void print(const char* label, const status_map& s)
{
    std::printf("%s:", label);
    for (const auto& [k, v] : s)
        std::printf(" %s=%.6g", k.c_str(), v);
    std::printf("\n");
}

int bundle_test(const char* port, double ahead)
{
    lo_server server = lo_server_new_with_proto(nullptr, LO_UDP, nullptr);
    lo_address target = lo_address_new("127.0.0.1", port);
    reply_state state;
    lo_server_add_method(server, nullptr, nullptr, on_message, &state);

    if (!ask_status(target, server, state))
    {
        std::printf("osc_client: FAIL no /status reply\n");
        return 1;
    }
    const status_map before = state.status;
    print("before", before);
    const double rate = before.at("sample_rate");

    lo_timetag tag;
    lo_timetag_now(&tag);
    const auto whole = static_cast<std::uint32_t>(ahead);
    tag.sec += whole;
    const double fraction = (ahead - whole) * 4294967296.0 + static_cast<double>(tag.frac);
    tag.sec += static_cast<std::uint32_t>(fraction / 4294967296.0);
    tag.frac = static_cast<std::uint32_t>(std::fmod(fraction, 4294967296.0));
    lo_bundle b = lo_bundle_new(tag);
    lo_message on = lo_message_new();
    lo_message_add_int32(on, 72);
    lo_message_add_int32(on, 100);
    lo_message gain = lo_message_new();
    lo_message_add_float(gain, 0.8F);
    lo_bundle_add_message(b, "/synth/note_on", on);
    lo_bundle_add_message(b, "/synth/gain", gain);
    const auto sent_at = std::chrono::steady_clock::now();
    if (lo_send_bundle_from(target, server, b) < 0)
    {
        std::printf("osc_client: FAIL lo_send_bundle_from\n");
        return 1;
    }
    lo_bundle_free_recursive(b);

    if (!ask_status(target, server, state))
        return 1;
    const status_map scheduled = state.status;
    print("scheduled", scheduled);
    const double frame = scheduled.at("last_bundle_frame");
    const double expected = scheduled.at("frames") + ahead * rate;
    const bool at_tag = std::fabs(frame - expected) <= 0.05 * rate;  // the mapping: engine clock + tag - now
    const bool not_yet = scheduled.at("timed_applied") == before.at("timed_applied") &&
                         scheduled.at("osc_scheduled") == before.at("osc_scheduled") + 2;

    std::this_thread::sleep_until(sent_at + std::chrono::duration<double>(ahead + 0.4));
    if (!ask_status(target, server, state))
        return 1;
    const status_map after = state.status;
    print("after", after);
    const bool applied = after.at("timed_applied") == before.at("timed_applied") + 2 &&
                         after.at("late") == before.at("late") && after.at("frames") > frame &&
                         after.at("voices") >= 1;
    std::printf("bundle scheduled at frame %.0f, expected %.0f (+- %.0f): %s; not applied before its time: %s; "
                "applied at its time, not late: %s\n",
                frame, expected, 0.05 * rate, at_tag ? "yes" : "no", not_yet ? "yes" : "no", applied ? "yes" : "no");
    lo_address_free(target);
    lo_server_free(server);
    const bool ok = at_tag && not_yet && applied;
    std::printf("osc_client: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

int unix_test(const char* path, const char* client_path)
{
    // liblo sends Unix datagrams from an unnamed socket, which cannot be answered; so this client binds a socket
    // of its own and uses liblo only to build and read the messages.
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un me{};
    me.sun_family = AF_UNIX;
    std::snprintf(me.sun_path, sizeof me.sun_path, "%s", client_path);
    ::unlink(client_path);
    sockaddr_un server{};
    server.sun_family = AF_UNIX;
    std::snprintf(server.sun_path, sizeof server.sun_path, "%s", path);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0)
    {
        std::printf("osc_client: FAIL cannot bind %s\n", client_path);
        return 1;
    }
    lo_message m = lo_message_new();
    std::size_t size = 0;
    void* bytes = lo_message_serialise(m, "/status", nullptr, &size);
    lo_message_free(m);
    const bool sent = ::sendto(fd, bytes, size, 0, reinterpret_cast<sockaddr*>(&server), sizeof server) ==
                      static_cast<ssize_t>(size);
    std::free(bytes);
    bool ok = false;
    pollfd p{fd, POLLIN, 0};
    if (sent && ::poll(&p, 1, 2000) == 1)
    {
        char reply[2048];
        const ssize_t got = ::recv(fd, reply, sizeof reply, 0);
        int result = 0;
        lo_message answer = got > 0 ? lo_message_deserialise(reply, static_cast<std::size_t>(got), &result) : nullptr;
        if (answer != nullptr)
        {
            ok = std::string(reply) == "/status" && lo_message_get_argc(answer) > 2;
            std::printf("unix: /status reply with %d arguments\n", lo_message_get_argc(answer));
            lo_message_free(answer);
        }
    }
    ::close(fd);
    ::unlink(client_path);
    std::printf("osc_client: %s\n", ok ? "PASS" : "FAIL no /status reply over the Unix socket");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc == 4 && std::string(argv[1]) == "bundle")
        return bundle_test(argv[2], std::atof(argv[3]));
    if (argc == 4 && std::string(argv[1]) == "unix")
        return unix_test(argv[2], argv[3]);
    std::fprintf(stderr, "usage: courier_osc_client bundle <port> <seconds> | unix <path> <client path>\n");
    return 2;
}
