// SPDX-License-Identifier: MIT
// courier-synth's OSC options and its run loop with the OSC endpoint on (demos/synth/README.md, docs/osc.md).
#pragma once

#include <courier/audio/engine.h>
#include <courier/audio/portaudio_driver.h>
#include <courier/patterns/port_registry.h>
#include <courier/patterns/port_table.h>

#include <functional>
#include <string>

namespace courier::synth {

/// The OSC options of courier-synth.
struct osc_options
{
    int udp_port = -1;                      ///< --osc-port N (-1: no UDP)
    std::string unix_path;                  ///< --osc-socket PATH
    std::string bind_address = "127.0.0.1"; ///< --osc-bind ADDR (the explicit wider bind)
    double duration = 0.0;                  ///< --duration S; 0: until SIGINT or SIGTERM
    std::string load_root = ".";            ///< --osc-load-root DIR: /load paths are relative to it
    double lease_seconds = -1.0;            ///< --osc-lease S: a UDP subscriber's lease (-1: the endpoint's default)
    int tcp_port = -1;                      ///< --osc-tcp N: TCP, int32 size-prefix framing (-1: none)
    int tcp_slip_port = -1;                 ///< --osc-tcp-slip N: TCP, SLIP framing (-1: none)
    std::string tcp_secret;                 ///< --osc-secret TEXT: TCP connections must send /auth TEXT first
    double tcp_idle = 0.0;                  ///< --osc-tcp-idle S: close a TCP connection with no packet for S s
    std::string record_path;                ///< --offline --output PATH: the paced run is recorded there
    bool record_pcm24 = false;              ///< --pcm24 with record_path
    /// Test hook (courier-synth --soak, soak.h): called on the main thread at every turn of the run loop
    /// (every 10 ms); returning false ends the run. Empty: none.
    std::function<bool()> each_wake;

    /// True when --osc-port, --osc-socket, --osc-tcp or --osc-tcp-slip was given.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] bool enabled() const noexcept
    {
        return udp_port >= 0 || !unix_path.empty() || tcp_port >= 0 || tcp_slip_port >= 0;
    }
};

/// Consumes `arg` when it is one of the OSC options (--osc-port N, --osc-socket PATH, --osc-bind ADDR,
/// --osc-load-root DIR, --osc-lease S, --osc-tcp N, --osc-tcp-slip N, --osc-secret TEXT, --osc-tcp-idle S,
/// --duration S), reading its value with
/// `value()` and checking numbers with `number(name, text, low, high)`, which throws for a bad one; returns false for any other argument.
/// Thread: setup. Real-time: no.
bool parse_osc_option(const std::string& arg, const std::function<std::string()>& value,
                      const std::function<double(const std::string&, const std::string&, double, double)>& number,
                      osc_options& options);

/// Makes room in `config` for the endpoint (one more producer lane, room for bundles in the timed lane).
/// Thread: setup. Real-time: no.
void size_engine_for_osc(const osc_options& options, audio::engine_config& config) noexcept;

/// Runs the stream (on `device`, or on the offline driver paced in real time when `device` is null) with the
/// OSC endpoint on, until options.duration has passed or SIGINT/SIGTERM comes; then stops the endpoint and the
/// stream and prints the OSC counters. `timed` is the engine's timed sender (after the score was queued): the
/// endpoint sends bundles through it. The endpoint's port opens in `ports` (which must outlive every channel to
/// it) and is listed as "/osc" in `names` (published here), beside the engine's processors. Returns the exit
/// status.
/// Thread: setup (main). Real-time: no.
int run_with_osc(audio::engine& engine, audio::portaudio_driver* device, const audio::stream_config& actual,
                 audio::engine_timed_sender timed, const osc_options& options, port_table& ports,
                 port_registry<audio::engine_event>& names);

}  // namespace courier::synth
