// SPDX-License-Identifier: MIT
// courier-synth with the OSC endpoint on: options, the run loop and the OSC counters (docs/osc.md).
#include "demos/synth/osc_control.h"

#include <courier/audio/offline_driver.h>
#include "demos/synth/synth_graph.h"
#include <courier/patterns/port_registry.h>
#include <courier/patterns/port_table.h>
#if COURIER_SYNTH_OSC
#include <courier/osc/osc_endpoint.h>
#include "demos/synth/synth_osc_map.h"
#endif

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace courier::synth {

namespace {

#if COURIER_SYNTH_OSC
volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int) { stop_signal = 1; }

// The event the main thread sends to "/osc" by name once a second: OSC /events subscribers see it as
// "/event 100 0 <seconds> <frames/1000> 0".
constexpr std::uint16_t clock_tick_event = 100;
#endif

}  // namespace

bool parse_osc_option(const std::string& arg, const std::function<std::string()>& value,
                      const std::function<double(const std::string&, const std::string&, double, double)>& number,
                      osc_options& o)
{
    if (arg == "--osc-port")
        o.udp_port = static_cast<int>(number(arg, value(), 0.0, 65535.0));
    else if (arg == "--osc-socket")
        o.unix_path = value();
    else if (arg == "--osc-bind")
        o.bind_address = value();
    else if (arg == "--osc-tcp")
        o.tcp_port = static_cast<int>(number(arg, value(), 0.0, 65535.0));
    else if (arg == "--osc-tcp-slip")
        o.tcp_slip_port = static_cast<int>(number(arg, value(), 0.0, 65535.0));
    else if (arg == "--osc-secret")
        o.tcp_secret = value();
    else if (arg == "--osc-tcp-idle")
        o.tcp_idle = number(arg, value(), 0.0, 1.0e6);
    else if (arg == "--osc-load-root")
        o.load_root = value();
    else if (arg == "--osc-lease")
        o.lease_seconds = number(arg, value(), 0.0, 1.0e6);
    else if (arg == "--duration")
        o.duration = number(arg, value(), 0.0, 1.0e6);
    else
        return false;
    return true;
}

void size_engine_for_osc(const osc_options& options, audio::engine_config& config) noexcept
{
    if (!options.enabled())
        return;
    config.max_producers += 1;
    config.timed_capacity += 1024;
    config.timed_buffer += 1024;
}

#if !COURIER_SYNTH_OSC
int run_with_osc(audio::engine&, audio::portaudio_driver*, const audio::stream_config&, audio::engine_timed_sender,
                 const osc_options&, port_table&, port_registry<audio::engine_event>&)
{
    throw std::runtime_error("this courier-synth was built without liblo: no OSC endpoint (apt-get install liblo-dev)");
}
#else
int run_with_osc(audio::engine& engine, audio::portaudio_driver* device, const audio::stream_config& actual,
                 audio::engine_timed_sender timed, const osc_options& options, port_table& ports,
                 port_registry<audio::engine_event>& names)
{
    // The endpoint is a port listed by name: as "/osc" in the program's registry beside the engine's processors,
    // and in a registry of this loop's own, through which the main thread sends it a clock tick every second,
    // which /events subscribers receive.
    port_registry<audio::engine_event> registry;
    registry_reader<audio::engine_event> main_reader = registry.add_reader();

    osc::endpoint_config config;
    config.addresses = osc_address_map();  // /synth/*: the synth's vocabulary
    config.udp_port = options.udp_port;
    config.unix_path = options.unix_path;
    config.bind_address = options.bind_address;
    config.load_root = options.load_root;
    if (options.lease_seconds >= 0.0)
        config.subscription_lease_seconds = options.lease_seconds;
    if (options.tcp_port >= 0)
        config.tcp.push_back(osc::tcp_listener{options.tcp_port, osc::framing::size_prefix});
    if (options.tcp_slip_port >= 0)
        config.tcp.push_back(osc::tcp_listener{options.tcp_slip_port, osc::framing::slip});
    config.tcp_secret = options.tcp_secret;
    config.tcp_idle_seconds = options.tcp_idle;
    config.timed_room = 1024;
    config.max_load_frames = static_cast<std::uint64_t>(actual.sample_rate) * 600U;
    config.read_meters = false;  // this loop reads them (the engine has one meter reader) and hands them over
    osc::endpoint endpoint(engine, engine.add_producer(), ports, config);
    timed.reset_thread_role();  // the main thread queued the score; from here on the network thread sends bundles
    endpoint.set_timed_sender(std::move(timed));
    endpoint.register_in(registry, "/osc");
    endpoint.register_in(names, "/osc");
    (void)registry.publish();
    (void)names.publish();
    (void)main_reader.refresh();

    std::unique_ptr<audio::offline_driver> offline;
    if (device != nullptr)
        device->start();
    else
    {
        offline = std::make_unique<audio::offline_driver>(actual);
        // Frame 0 of this run at this time tag: a bundle's time tag T is scheduled near frame
        // (T - origin) * sample rate (docs/osc.md, "Time across nodes"), which a recording can be checked against.
        if (options.record_path.empty())
            offline->start(engine, audio::pacing::real_time);
        else
            offline->start(engine, audio::pacing::real_time, options.record_path,
                           options.record_pcm24 ? audio::wav_format::pcm24 : audio::wav_format::float32);
        // The driver's thread reads the system clock as it begins (it may begin after start() returned).
        const auto asked = std::chrono::steady_clock::now();
        while (offline->started_unix_nanoseconds() == 0 && std::chrono::steady_clock::now() - asked < std::chrono::seconds(5))
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const std::uint64_t origin = osc::time_tag_from_unix_nanoseconds(offline->started_unix_nanoseconds());
        std::printf("courier-synth: frame 0 at time tag %llu\n", static_cast<unsigned long long>(origin));
    }
    endpoint.start();

    struct sigaction action{};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    struct sigaction old_int{};
    struct sigaction old_term{};
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);

    std::printf("courier-synth: OSC endpoint listening on");
    if (options.udp_port >= 0)
        std::printf(" udp %s:%u", options.bind_address.c_str(), static_cast<unsigned>(endpoint.udp_port()));
    if (!options.unix_path.empty())
        std::printf(" unix %s", options.unix_path.c_str());
    for (std::size_t i = 0; i < config.tcp.size(); ++i)
        std::printf(" tcp %s:%u (%s)", options.bind_address.c_str(), static_cast<unsigned>(endpoint.tcp_port(i)),
                    std::string(osc::framing_name(config.tcp[i].kind)).c_str());
    if (options.duration > 0.0)
        std::printf(" (%s, for %.1f s)\n", device != nullptr ? "device" : "offline driver paced in real time",
                    options.duration);
    else
        std::printf(" (%s, until SIGINT/SIGTERM)\n", device != nullptr ? "device" : "offline driver paced in real time");
    std::fflush(stdout);

    const auto started = std::chrono::steady_clock::now();
    auto next_tick = started + std::chrono::seconds(1);
    std::uint32_t seconds = 0;
    std::vector<float> scope(1024);
    std::uint64_t ticks_refused = 0;
    while (stop_signal == 0)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const auto now = std::chrono::steady_clock::now();
        if (options.duration > 0.0 && now - started >= std::chrono::duration<double>(options.duration))
            break;
        if (options.each_wake && !options.each_wake())
            break;
        (void)engine.collect_graphs();
        audio::engine_meters meters;
        if (engine.try_read_meters(meters))
            endpoint.publish_meters(meters);
        while (engine.try_read_scope(scope) > 0)
        {
        }  // a GUI would draw it
        if (now >= next_tick)
        {
            next_tick += std::chrono::seconds(1);
            audio::engine_event tick;
            tick.type = clock_tick_event;
            tick.key = ++seconds;
            tick.value = static_cast<float>(static_cast<double>(engine.stats().frames) / 1000.0);
            if (main_reader.try_send("/osc", std::move(tick)) != send_status::sent)
                ++ticks_refused;
        }
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);

    endpoint.stop();
    (void)names.remove("/osc");  // its port closes with the endpoint below; readers would get gone
    (void)names.publish();
    if (device != nullptr)
        device->stop();
    else
        offline->stop();
    std::printf("courier-synth: stopped after %.1f s%s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                stop_signal != 0 ? " (signal)" : "");
    if (offline && !options.record_path.empty())
    {
        std::printf("courier-synth: recorded %llu frames to %s%s\n",
                    static_cast<unsigned long long>(offline->frames_processed()), options.record_path.c_str(),
                    offline->recorded_all() ? "" : " (INCOMPLETE: a write failed)");
    }
    const int status = offline && !options.record_path.empty() && !offline->recorded_all() ? 1 : 0;

    const osc::endpoint_stats s = endpoint.stats();
    std::printf("\nOSC endpoint statistics\n");
    std::printf("  datagrams %llu (kernel dropped %llu), messages %llu, bundles %llu\n",
                static_cast<unsigned long long>(s.datagrams), static_cast<unsigned long long>(s.kernel_dropped),
                static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.bundles));
    std::printf("  applied %llu, scheduled %llu (late bundles %llu, last at frame %llu), refused %llu, verbs %llu, "
                "rejected %llu\n",
                static_cast<unsigned long long>(s.applied), static_cast<unsigned long long>(s.scheduled),
                static_cast<unsigned long long>(s.late_bundles), static_cast<unsigned long long>(s.last_bundle_frame),
                static_cast<unsigned long long>(s.refused), static_cast<unsigned long long>(s.verbs),
                static_cast<unsigned long long>(s.rejected));
    for (std::size_t i = 1; i < osc::reject_reason_count; ++i)
        if (s.rejected_by[i] != 0)
            std::printf("    rejected %-20s %llu\n", std::string(osc::reason_name(static_cast<osc::reject_reason>(i))).c_str(),
                        static_cast<unsigned long long>(s.rejected_by[i]));
    if (!config.tcp.empty())
        std::printf("  tcp: connections %llu (refused %llu, cut %llu, idle %llu, auth failed %llu), packets %llu, framing errors "
                    "%llu, backpressure pauses %llu, replies dropped %llu\n",
                    static_cast<unsigned long long>(s.connections), static_cast<unsigned long long>(s.connections_refused),
                    static_cast<unsigned long long>(s.connections_cut), static_cast<unsigned long long>(s.connections_idle),
                    static_cast<unsigned long long>(s.auth_failed),
                    static_cast<unsigned long long>(s.frames), static_cast<unsigned long long>(s.frame_errors),
                    static_cast<unsigned long long>(s.backpressure),
                    static_cast<unsigned long long>(s.stream_replies_dropped));
    std::printf("  replies %llu (failed %llu), notifications %llu, subscribers at stop %llu (refused %llu, "
                "expired %llu), loads done %llu, failed %llu, events forwarded %llu, clock ticks refused %llu\n",
                static_cast<unsigned long long>(s.replies), static_cast<unsigned long long>(s.replies_failed),
                static_cast<unsigned long long>(s.notifications), static_cast<unsigned long long>(s.subscribers),
                static_cast<unsigned long long>(s.subscribers_refused),
                static_cast<unsigned long long>(s.subscribers_expired),
                static_cast<unsigned long long>(s.loads_done), static_cast<unsigned long long>(s.loads_failed),
                static_cast<unsigned long long>(s.events_forwarded), static_cast<unsigned long long>(ticks_refused));
    std::fflush(stdout);
    return status;
}
#endif

}  // namespace courier::synth
