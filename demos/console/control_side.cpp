// SPDX-License-Identifier: MIT
// The console demo's control side (see control_side.h).
#include "demos/console/control_side.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace demo {

namespace {
constexpr auto tick = std::chrono::milliseconds(20);
}

double parse_seconds(int argc, char** argv)
{
    double seconds = 1.5;
    for (int i = 1; i < argc; ++i)
    {
        const std::string arg = argv[i];
        if (arg == "--seconds" && i + 1 < argc)
        {
            char* end = nullptr;
            seconds = std::strtod(argv[++i], &end);
            if (*end != '\0' || !(seconds > 0.0 && seconds <= 60.0))
            {
                std::fprintf(stderr, "courier_console_demo: --seconds wants a number in (0, 60], not '%s'\n", argv[i]);
                std::exit(2);
            }
            continue;
        }
        const bool help = arg == "--help" || arg == "-h";
        std::fprintf(help ? stdout : stderr,
                     "%s"
                     "usage: courier_console_demo [--seconds S]\n"
                     "  Runs a simulated 48 kHz audio callback on its own thread for S seconds (default 1.5).\n"
                     "  The control thread sets gain and pitch through a command lane, a second thread sends\n"
                     "  pitch nudges through a mailbox, and the audio side reports applied commands, meters and\n"
                     "  scope buffers back. Halfway through, a burst overfills the command lane to show that a\n"
                     "  full lane refuses, counts and reports, and never drops a message silently.\n",
                     help ? "" : ("courier_console_demo: unknown argument '" + arg + "'\n").c_str());
        std::exit(help ? 0 : 2);
    }
    return seconds;
}

void send_nudges(courier::lane_sender<nudge>& sender, double seconds)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds * 0.8);
    for (;;)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        if (std::chrono::steady_clock::now() >= end)
            return;  // well before the device stops, so every nudge sent is also applied
        if (!sender.try_send(nudge{2.0f}))  // a full lane is the sender's news, not a silent loss
            std::printf("            network: nudge refused, lane full\n");
    }
}

control_side::control_side(courier::command_sender<void(voice_state&), 32> to_audio_end,
                           courier::lane_receiver<audio_event> from_audio_end,
                           courier::lane_receiver<courier::pool_ptr<scope_buffer>> scope_end)
    : to_audio(std::move(to_audio_end)), from_audio(std::move(from_audio_end)), scope_in(std::move(scope_end))
{
}

void control_side::send_gain(float gain, const char* why)
{
    if (to_audio.try_send([gain](voice_state& v) { v.gain = gain; }))
    {
        std::printf("%8.3f s  control -> audio  gain %.2f (%s)\n", std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start).count(), static_cast<double>(gain), why);
        pending_gain = -1.0f;
    }
    else
    {
        pending_gain = gain;  // keep the latest value and resend it on the next tick
    }
}

void control_side::run_for(double seconds)
{
    start = std::chrono::steady_clock::now();
    const int ticks = static_cast<int>(seconds / 0.020);
    send_gain(0.25f, "fade in");
    for (int t = 1; t <= ticks; ++t)
    {
        std::this_thread::sleep_until(start + t * tick);
        if (pending_gain >= 0.0f)
            send_gain(pending_gain, "resent after a refusal");
        if (t == ticks / 4)
            send_gain(0.5f, "louder");
        if (t == ticks / 2)
        {
            // A slider dragged fast: 48 updates in one tick into a lane that holds 32.
            int refused = 0;
            for (int i = 1; i <= 48; ++i)
                if (!to_audio.try_send([g = 0.5f + 0.005f * static_cast<float>(i)](voice_state& v) { v.gain = g; }))
                    ++refused;
            std::printf("%8.3f s  control -> audio  burst of 48 gain updates: %d refused because the lane was full"
                        " (counted, reported here, the last value resent next tick)\n",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), refused);
            if (refused > 0)
                pending_gain = 0.74f;
        }
        if (t == 3 * ticks / 4)
        {
            if (to_audio.try_send([](voice_state& v) { v.frequency = 220.0; }))
                std::printf("%8.3f s  control -> audio  retune to 220 Hz\n",
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        drain_reports();
    }
}

void control_side::drain_reports()
{
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::uint64_t applied_now = 0;
    std::uint64_t last_block = 0;
    float last_gain = 0.0f;
    from_audio.drain(
        [&](audio_event&& e) {
            switch (e.what)
            {
            case audio_event::kind::command_applied:
                ++applied_now;
                last_block = e.block;
                last_gain = e.value;
                break;
            case audio_event::kind::nudge_applied:
                std::printf("%8.3f s  audio -> control  block %4llu applied a nudge: now %.1f Hz\n", now,
                            static_cast<unsigned long long>(e.block), static_cast<double>(e.value));
                break;
            case audio_event::kind::meter:
                if (e.block % 64 == 0)
                    std::printf("%8.3f s  audio -> control  block %4llu meter: peak %.3f\n", now,
                                static_cast<unsigned long long>(e.block), static_cast<double>(e.value));
                break;
            }
        },
        1024);
    if (applied_now > 0)
        std::printf("%8.3f s  audio -> control  block %4llu applied %llu command(s): gain now %.3f\n", now,
                    static_cast<unsigned long long>(last_block), static_cast<unsigned long long>(applied_now),
                    static_cast<double>(last_gain));
    commands_applied += applied_now;
    // Scope buffers: look at each, then drop it; dropping sends it back to the audio side's pool.
    scope_frames += scope_in.drain([](courier::pool_ptr<scope_buffer>&&) {}, 64);
}

void control_side::finish(std::uint64_t blocks_rendered, std::uint64_t scope_frames_skipped)
{
    drain_reports();
    std::printf("\nthe audio side rendered %llu blocks and applied %llu commands; %llu scope frames reached the"
                " control side, %llu were skipped for lack of a free buffer\n",
                static_cast<unsigned long long>(blocks_rendered), static_cast<unsigned long long>(commands_applied),
                static_cast<unsigned long long>(scope_frames), static_cast<unsigned long long>(scope_frames_skipped));
}

void control_side::print_lane_table(std::initializer_list<std::pair<const char*, courier::lane_stats>> lanes)
{
    std::printf("\n%-28s %9s %9s %9s %9s %10s\n", "lane", "capacity", "sent", "received", "refused", "high-water");
    for (const auto& [name, s] : lanes)
        std::printf("%-28s %9zu %9llu %9llu %9llu %10llu\n", name, s.capacity, static_cast<unsigned long long>(s.sent),
                    static_cast<unsigned long long>(s.received), static_cast<unsigned long long>(s.refused),
                    static_cast<unsigned long long>(s.high_water));
}

}  // namespace demo
