// SPDX-License-Identifier: MIT
// courier-synth: a polyphonic synthesizer driven by a score, played through PortAudio or rendered offline to a
// WAV file, printing the engine's statistics at the end (demos/synth/README.md).
#include "audio/disk_streamer.h"
#include "audio/driver_error.h"
#include "audio/engine.h"
#include "audio/offline_driver.h"
#include "audio/portaudio_driver.h"
#include "patterns/port_registry.h"
#include "demos/synth/osc_control.h"
#include "demos/synth/score.h"
#include "demos/synth/synth_graph.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr const char* help_text = R"(courier-synth: a polyphonic synthesizer on the courier audio engine.

Usage: courier-synth [options]

Plays a score (or the built-in demo sequence) through PortAudio. When no audio device can be opened, or
with --offline, it renders offline to a WAV file instead and says so. At the end it prints the engine's
statistics and how many messages went through each pattern.

Options:
  --score FILE         play the score in FILE ("-" reads standard input); format in demos/synth/README.md:
                       one event per line, "<seconds> <command> <args>", e.g. "0.5 on C4 0.8", "1.0 off C4",
                       "0 gain 0.5", "0 cutoff 1200", "0 wave square", "2 alloff", "3 patch 4" (swap in a
                       new graph with 4 voices), "6 end"; '#' starts a comment
  --demo               play the built-in demo sequence (the default without --score)
  --print-demo         print the built-in demo sequence as a score and exit
  --offline            do not open a device: render to the WAV file
  --output FILE        the WAV file of an offline render (default: courier-synth.wav)
  --pcm24              write 24-bit PCM instead of 32-bit float
  --host-api NAME      PortAudio host API, a substring such as "alsa" or "jack" (default: PortAudio's default)
  --device NAME        device of that host API (default: its default output)
  --sample-rate HZ     sample rate asked for (default: 48000)
  --block-size N       frames per callback (default: 256)
  --voices N           polyphony, voices preallocated (default: 8)
  --waveform W         starting waveform: sine, saw or square (default: saw)
  --gain G             starting linear gain, 0..4 (default: 0.5)
  --cutoff HZ          starting low-pass cutoff in Hz (default: 4000)
  --tail SECONDS       time rendered after the score's end, for the releases (default: 0.5)
  --stream FILE        mix in a sound file (anything libsndfile reads), streamed from disk by a worker thread
  --stream-gain G      linear gain of the streamed file (default: 0.5)
  --stream-loop        start the file again at its end
  --control-rate N     a control thread sends N no-op messages per second while the audio runs, half through
                       the engine's mailbox, half by name to the /synth port (load test; the sound does not
                       change; default: 0)
  --osc-port N         enable the OSC endpoint on UDP port N of 127.0.0.1 (docs/osc.md); the synth then plays
                       until --duration has passed or SIGINT/SIGTERM (offline: paced in real time, no WAV
                       file), and prints the OSC counters at the end
  --osc-socket PATH    enable the OSC endpoint on a Unix datagram socket at PATH (mode 0600)
  --osc-bind ADDR      bind the OSC UDP port to ADDR instead of 127.0.0.1 (0.0.0.0: every interface)
  --osc-load-root DIR  OSC /load reads sound files under DIR only (default: the current directory)
  --duration S         with the OSC endpoint on: stop after S seconds (default: run until a signal)
  --help               show this text

Exit status: 0 on success, 1 when audio or a file fails, 2 for a bad argument or a bad score line.
)";

struct usage_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct options
{
    std::string score_path;  // empty: the demo
    bool print_demo = false;
    bool offline = false;
    std::string output = "courier-synth.wav";
    bool pcm24 = false;
    std::string host_api = "default";
    std::string device;
    double sample_rate = 48000.0;
    std::size_t block_size = 256;
    courier::synth::synth_settings synth;
    double tail = 0.5;
    double control_rate = 0.0;
    std::string stream_path;
    float stream_gain = 0.5F;
    bool stream_loop = false;
    courier::synth::osc_options osc;  // --osc-port, --osc-socket, ... (osc_control.h)
};

// The synth with a streamed file mixed in: the graph courier-synth runs with --stream.
class synth_and_stream final : public courier::audio::audio_graph
{
public:
    synth_and_stream(const courier::synth::synth_settings& settings, courier::audio::disk_streamer& s)
        : synth(settings), stream(&s)
    {
    }
    void prepare(double rate, std::size_t frames) override { synth.prepare(rate, frames); }
    void apply(const courier::audio::engine_event& e) noexcept COURIER_REALTIME override { synth.apply(e); }
    // Two processors with a port each: "synth" (notes and parameters) and "stream" (set_gain: the file's level).
    [[nodiscard]] std::span<const std::string_view> processors() const noexcept COURIER_REALTIME override
    {
        static constexpr std::string_view names[] = {"synth", "stream"};
        return names;
    }
    void apply_to(std::size_t index, const courier::audio::engine_event& e) noexcept COURIER_REALTIME override
    {
        if (index == 0)
            synth.apply(e);
        else if (e.type == courier::synth::set_gain)
            stream->set_gain(e.value);
    }
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        synth.render(out, channels, offset, frames);
        static_cast<void>(stream->mix(out, channels, offset, frames));  // adds; silence on an underrun
    }
    [[nodiscard]] std::uint32_t activity() const noexcept COURIER_REALTIME override { return synth.activity(); }

private:
    courier::synth::synth_graph synth;
    courier::audio::disk_streamer* stream;  // outlives the engine and its graphs
};

// The score's `patch` lines. Each builds a new graph here, on the control side, with the settings the score has
// set by its time, and publishes it; the audio side adopts it in O(1) at its next block (swap_and_retire), and
// the old graph travels back to die in engine.collect_graphs(), on this thread.
class patcher
{
public:
    patcher(const courier::synth::score& s, const courier::synth::synth_settings& base, double sample_rate,
            courier::audio::disk_streamer* stream_)
        : stream(stream_)
    {
        for (const courier::synth::score_patch& p : s.patches)
            due.push_back({courier::synth::score::frame_of(p.seconds, sample_rate), p.line, settings_at(s, base, p)});
        std::sort(due.begin(), due.end(), [](const pending& a, const pending& b) {
            return a.frame != b.frame ? a.frame < b.frame : a.line < b.line;  // same frame: in the order written
        });
    }

    // Publishes every patch due before `frame` (a refused one is retried at the next call).
    void publish_due(courier::audio::engine& engine, std::uint64_t frame)
    {
        while (next < due.size() && due[next].frame < frame)
        {
            std::unique_ptr<courier::audio::audio_graph> fresh = build(due[next].settings);
            if (!engine.try_publish_graph(fresh))
                return;  // graphs in flight: the caller collects them, and the next call tries again
            ++next;
        }
    }

private:
    struct pending
    {
        std::uint64_t frame;
        std::size_t line;
        courier::synth::synth_settings settings;
    };

    static courier::synth::synth_settings settings_at(const courier::synth::score& s,
                                                      courier::synth::synth_settings settings,
                                                      const courier::synth::score_patch& p)
    {
        settings.max_voices = p.voices;
        for (const courier::synth::score_event& e : s.events)
        {
            if (e.seconds > p.seconds || (e.seconds == p.seconds && e.line > p.line))
                continue;
            if (e.event.type == courier::synth::set_gain)
                settings.gain = e.event.value;
            else if (e.event.type == courier::synth::set_cutoff)
                settings.cutoff = e.event.value;
            else if (e.event.type == courier::synth::set_waveform)
                settings.shape = static_cast<courier::synth::waveform>(e.event.key);
        }
        return settings;
    }

    [[nodiscard]] std::unique_ptr<courier::audio::audio_graph> build(const courier::synth::synth_settings& settings) const
    {
        if (stream != nullptr)
            return std::make_unique<synth_and_stream>(settings, *stream);
        return std::make_unique<courier::synth::synth_graph>(settings);
    }

    courier::audio::disk_streamer* stream;
    std::vector<pending> due;
    std::size_t next = 0;
};

double number_option(const std::string& name, const std::string& text, double low, double high)
{
    std::size_t used = 0;
    double value = 0.0;
    try
    {
        value = std::stod(text, &used);
    }
    catch (const std::exception&)
    {
        used = 0;
    }
    if (used != text.size() || text.empty() || !(value >= low && value <= high))
    {
        std::ostringstream why;
        why << name << " wants a number from " << low << " to " << high << ", got '" << text << "'";
        throw usage_error(why.str());
    }
    return value;
}

options parse_arguments(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i)
    {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw usage_error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h")
        {
            std::fputs(help_text, stdout);
            std::exit(EXIT_SUCCESS);
        }
        else if (arg == "--score")
            o.score_path = value();
        else if (arg == "--demo")
            o.score_path.clear();
        else if (arg == "--print-demo")
            o.print_demo = true;
        else if (arg == "--offline")
            o.offline = true;
        else if (arg == "--output")
            o.output = value();
        else if (arg == "--pcm24")
            o.pcm24 = true;
        else if (arg == "--host-api")
            o.host_api = value();
        else if (arg == "--device")
            o.device = value();
        else if (arg == "--sample-rate")
            o.sample_rate = number_option(arg, value(), 8000.0, 384000.0);
        else if (arg == "--block-size")
            o.block_size = static_cast<std::size_t>(number_option(arg, value(), 16.0, 8192.0));
        else if (arg == "--voices")
            o.synth.max_voices = static_cast<std::size_t>(number_option(arg, value(), 1.0, 128.0));
        else if (arg == "--waveform")
        {
            const std::string w = value();
            if (w == "sine")
                o.synth.shape = courier::synth::waveform::sine;
            else if (w == "saw")
                o.synth.shape = courier::synth::waveform::saw;
            else if (w == "square")
                o.synth.shape = courier::synth::waveform::square;
            else
                throw usage_error("--waveform wants sine, saw or square, got '" + w + "'");
        }
        else if (arg == "--gain")
            o.synth.gain = static_cast<float>(number_option(arg, value(), 0.0, 4.0));
        else if (arg == "--cutoff")
            o.synth.cutoff = static_cast<float>(number_option(arg, value(), 10.0, 100000.0));
        else if (arg == "--tail")
            o.tail = number_option(arg, value(), 0.0, 60.0);
        else if (arg == "--stream")
            o.stream_path = value();
        else if (arg == "--stream-gain")
            o.stream_gain = static_cast<float>(number_option(arg, value(), 0.0, 4.0));
        else if (arg == "--stream-loop")
            o.stream_loop = true;
        else if (courier::synth::parse_osc_option(arg, value, number_option, o.osc))
            continue;
        else if (arg == "--control-rate")
            o.control_rate = number_option(arg, value(), 0.0, 1000000.0);
        else
            throw usage_error("unknown argument '" + arg + "'");
    }
    return o;
}

courier::synth::score load_score(const options& o)
{
    if (o.score_path.empty())
    {
        std::istringstream demo{std::string(courier::synth::demo_score_text())};
        return courier::synth::parse_score(demo, "demo");
    }
    if (o.score_path == "-")
        return courier::synth::parse_score(std::cin, "stdin");
    std::ifstream file(o.score_path);
    if (!file)
        throw usage_error("cannot open the score '" + o.score_path + "'");
    return courier::synth::parse_score(file, o.score_path);
}

// The control thread of --control-rate: N no-op messages a second, alternately through the engine's mailbox
// (its own lane) and by name to the "/synth" processor port (its registry reader's lane).
struct chatter
{
    std::atomic<bool> stop{false};
    std::uint64_t sent = 0;          // through the mailbox
    std::uint64_t sent_by_name = 0;  // to "/synth" through the registry
    std::uint64_t refused = 0;       // either way: a full lane, or (by name) an unknown name or a closed port

    void run(courier::audio::engine_sender to_audio, courier::registry_reader<courier::audio::engine_event> names,
             double per_second)
    {
        using clock = std::chrono::steady_clock;
        names.refresh();  // adopts the names published at setup
        const auto start = clock::now();
        while (!stop.load(std::memory_order_relaxed))  // a flag; nothing is read through it
        {
            const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
            const auto due = static_cast<std::uint64_t>(elapsed * per_second);
            while (sent + sent_by_name + refused < due)
            {
                courier::audio::engine_event e;
                const std::uint64_t n = sent + sent_by_name + refused;
                e.tag = static_cast<std::uint32_t>(n);
                if (n % 2 == 0)
                    (to_audio.try_send(e) ? sent : refused) += 1;  // never silent: counted and reported
                else
                    (names.try_send("/synth", std::move(e)) == courier::send_result::sent ? sent_by_name : refused) += 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
};

void print_statistics(courier::audio::engine& engine, std::uint64_t meters_read, std::uint64_t scope_read,
                      const chatter* control)
{
    const courier::audio::engine_stats s = engine.stats();
    std::printf("\nengine statistics\n");
    std::printf("  callbacks %llu, frames %llu, load mean %.2f%% max %.2f%% of the period, %llu over budget\n",
                static_cast<unsigned long long>(s.callbacks), static_cast<unsigned long long>(s.frames),
                100.0 * s.mean_load, 100.0 * s.max_load, static_cast<unsigned long long>(s.over_budget));
    std::printf("  messages applied: %llu timed + %llu immediate + %llu by port, max %llu and mean %.2f per "
                "callback, budget reached %llu times, %llu late, %llu sends refused\n",
                static_cast<unsigned long long>(s.timed_applied), static_cast<unsigned long long>(s.immediate_applied),
                static_cast<unsigned long long>(s.port_applied),
                static_cast<unsigned long long>(s.max_messages_per_callback), s.mean_messages_per_callback,
                static_cast<unsigned long long>(s.budget_exhausted), static_cast<unsigned long long>(s.late_events),
                static_cast<unsigned long long>(s.sends_refused));
    std::printf("messages per pattern\n");
    const courier::timed_events_stats t = engine.timed_stats();
    std::printf("  B11 timed_events     score -> audio    sent %llu, received %llu, refused %llu, late %llu\n",
                static_cast<unsigned long long>(t.lane.sent), static_cast<unsigned long long>(t.lane.received),
                static_cast<unsigned long long>(t.lane.refused), static_cast<unsigned long long>(t.late));
    if (control != nullptr)
    {
        const courier::lane_stats m = engine.mailbox_stats(0);
        std::printf("  mailbox              control -> audio  sent %llu, received %llu (%llu still queued at stop), "
                    "refused %llu\n",
                    static_cast<unsigned long long>(m.sent), static_cast<unsigned long long>(m.received),
                    static_cast<unsigned long long>(m.sent - m.received), static_cast<unsigned long long>(m.refused));
    }
    for (const std::string& name : engine.processor_names())
    {
        // Each port has one lane per registry reader; the control thread's is lane 0.
        const courier::port<courier::audio::engine_event>& p = engine.processor_port(name);
        std::uint64_t sent = 0;
        std::uint64_t refused = 0;
        for (std::size_t lane = 0; lane < p.connected(); ++lane)
        {
            sent += p.stats(lane).sent;
            refused += p.stats(lane).refused;
        }
        std::printf("  ports by name        control -> audio  /%s: sent %llu, refused %llu\n", name.c_str(),
                    static_cast<unsigned long long>(sent), static_cast<unsigned long long>(refused));
    }
    const courier::swap_and_retire_stats g = engine.graph_stats();
    std::printf("  B6  swap_and_retire  control -> audio  graphs published %llu, adopted %llu, collected %llu\n",
                static_cast<unsigned long long>(g.publications.sent),
                static_cast<unsigned long long>(g.publications.received),
                static_cast<unsigned long long>(g.returns.destroyed));
    std::printf("  B2  state_observer   audio -> control  meters published %llu, read %llu\n",
                static_cast<unsigned long long>(engine.meters_published()),
                static_cast<unsigned long long>(meters_read));
    const courier::buffer_pool_stats p = engine.scope_stats();
    std::printf("  B10 buffer_pool      audio -> control  scope buffers sent %llu, read %llu, returned %llu, "
                "starved %llu\n",
                static_cast<unsigned long long>(p.sent), static_cast<unsigned long long>(scope_read),
                static_cast<unsigned long long>(p.returned), static_cast<unsigned long long>(p.starved));
}

double decibels(float peak)
{
    return peak > 0.0F ? 20.0 * std::log10(static_cast<double>(peak)) : -INFINITY;
}

int run(const options& o)
{
    const courier::synth::score score = load_score(o);
    if (o.print_demo)
    {
        std::fputs(std::string(courier::synth::demo_score_text()).c_str(), stdout);
        return EXIT_SUCCESS;
    }

    courier::audio::engine_config config;
    config.timed_capacity = score.events.size() + 16;  // the whole score goes in before the stream starts
    config.timed_buffer = score.events.size() + 16;
    config.max_producers = 1;
    config.mailbox_capacity = 4096;
    courier::synth::size_engine_for_osc(o.osc, config);
    // Declared before the engine, so they outlive it: the port table its processor ports live in, the registry
    // that names them ("/synth", "/stream"), and the disk streamer.
    courier::port_table ports(8, 4);
    courier::port_registry<courier::audio::engine_event> names;
    courier::registry_reader<courier::audio::engine_event> control_names = names.add_reader();  // the control thread
    std::unique_ptr<courier::audio::disk_streamer> stream;
    std::unique_ptr<courier::audio::audio_graph> graph;
    if (o.stream_path.empty())
        graph = std::make_unique<courier::synth::synth_graph>(o.synth);
    else
    {
        courier::audio::disk_streamer_config stream_config;
        stream_config.gain = o.stream_gain;
        stream_config.loop = o.stream_loop;
        stream = std::make_unique<courier::audio::disk_streamer>(o.stream_path, stream_config);
        graph = std::make_unique<synth_and_stream>(o.synth, *stream);
    }
    courier::audio::engine engine(std::move(graph), config);
    engine.open_processor_ports(ports);
    engine.register_processors(names);  // every reader is declared above: add() reserves a lane for each
    names.publish();

    courier::audio::stream_config wanted;
    wanted.sample_rate = o.sample_rate;
    wanted.block_size = o.block_size;
    wanted.output_channels = 2;

    // Open the device first: a JACK server imposes its own sample rate, and the score is timed in frames.
    courier::audio::portaudio_driver* device = nullptr;
    std::unique_ptr<courier::audio::portaudio_driver> portaudio;
    std::string why_offline = "--offline";
    if (!o.offline)
    {
        try
        {
            portaudio = std::make_unique<courier::audio::portaudio_driver>();
            portaudio->open({o.host_api, o.device, wanted}, engine);
            device = portaudio.get();
        }
        catch (const courier::audio::driver_error& e)
        {
            why_offline = e.what();
            portaudio.reset();
        }
    }
    const courier::audio::stream_config actual = device != nullptr ? device->info().config : wanted;

    auto sequencer = engine.timed_sender();
    for (const courier::synth::score_event& e : score.events)
        if (!sequencer.try_send(courier::synth::score::frame_of(e.seconds, actual.sample_rate), e.event))
            throw std::runtime_error("the score did not fit the timed-event lane");  // sized above: cannot happen
    const double seconds = score.length_seconds + o.tail;
    const auto total_frames = static_cast<std::size_t>(std::llround(seconds * actual.sample_rate));

    patcher patches(score, o.synth, actual.sample_rate, stream.get());
    chatter control;
    std::thread control_thread;
    if (o.control_rate > 0.0)
        control_thread = std::thread([&control, sender = engine.add_producer(), reader = std::move(control_names),
                                      rate = o.control_rate]() mutable {
            control.run(std::move(sender), std::move(reader), rate);
        });

    std::uint64_t meters_read = 0;
    std::uint64_t scope_read = 0;
    std::vector<float> scope_view(config.scope_frames);
    float loudest = 0.0F;
    auto read_side = [&]() {
        courier::audio::engine_meters m;
        if (engine.try_read_meters(m))
        {
            ++meters_read;
            loudest = std::max({loudest, m.peak[0], m.peak[1]});
        }
        while (engine.try_read_scope(scope_view) > 0)
            ++scope_read;  // a GUI would draw it
        engine.collect_graphs();
    };

    if (stream != nullptr)
    {
        if (stream->sample_rate() != actual.sample_rate)
            std::printf("courier-synth: %s is at %.0f Hz: the disk worker resamples it to %.0f Hz\n",
                        o.stream_path.c_str(), stream->sample_rate(), actual.sample_rate);
        stream->set_output_rate(actual.sample_rate);
        stream->start();
        if (!stream->wait_until_primed(std::chrono::seconds(5)))
            std::printf("courier-synth: the disk worker is slow: the stream may start with an underrun\n");
    }

    int status = EXIT_SUCCESS;
    if (o.osc.enabled())
        status = courier::synth::run_with_osc(engine, device, actual, std::move(sequencer), o.osc, ports, names);
    else if (device != nullptr)
    {
        const courier::audio::stream_info info = device->info();
        std::printf("courier-synth: playing %zu events (%.2f s) on %s / %s at %.0f Hz, %zu frames a block\n",
                    score.events.size(), seconds, info.host_api.c_str(), info.device.c_str(), actual.sample_rate,
                    actual.block_size);
        device->start();
        double next_report = 1.0;
        while (engine.stats().frames < total_frames)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            read_side();
            // This loop wakes every 10 ms: publish what falls due before the next wake-up and block.
            patches.publish_due(engine, engine.stats().frames + actual.block_size +
                                            static_cast<std::uint64_t>(0.012 * actual.sample_rate));
            const double now = static_cast<double>(engine.stats().frames) / actual.sample_rate;
            if (now >= next_report)
            {
                std::printf("  %5.1f s  peak %6.1f dBFS\n", now, decibels(loudest));
                std::fflush(stdout);
                loudest = 0.0F;
                next_report += 1.0;
            }
        }
        device->stop();
        std::printf("courier-synth: done, %llu xruns reported by PortAudio\n",
                    static_cast<unsigned long long>(device->xruns()));
    }
    else
    {
        std::printf("courier-synth: no audio device (%s)\n", why_offline.c_str());
        std::printf("courier-synth: rendering %zu events (%.2f s) offline to %s at %.0f Hz, %zu frames a block\n",
                    score.events.size(), seconds, o.output.c_str(), actual.sample_rate, actual.block_size);
        courier::audio::offline_driver offline(actual);
        try
        {
            // Between blocks, outside the callback, the main thread takes the control side's turn: it reads the
            // meters and scope as a GUI would, publishes a patch due in the next block (the audio side adopts it
            // at that block's start, so offline a patch lands on its block exactly), and waits until the disk
            // worker has the next block's frames, so a streamed file never underruns offline and the render is
            // the same every run.
            auto between_blocks = [&] {
                read_side();
                patches.publish_due(engine, engine.stats().frames + actual.block_size);
                while (stream != nullptr && stream->frames_ready() < actual.block_size)
                    std::this_thread::yield();
            };
            offline.render_to_file(engine, total_frames, o.output,
                                   o.pcm24 ? courier::audio::wav_format::pcm24 : courier::audio::wav_format::float32,
                                   {}, between_blocks);
            read_side();
            std::printf("courier-synth: wrote %s (%zu frames, 2 channels, %s)\n", o.output.c_str(), total_frames,
                        o.pcm24 ? "24-bit PCM" : "32-bit float");
        }
        catch (const courier::audio::driver_error& e)
        {
            std::fprintf(stderr, "courier-synth: %s\n", e.what());
            status = EXIT_FAILURE;
        }
    }

    control.stop.store(true, std::memory_order_relaxed);  // a flag; the join below is the synchronisation
    if (control_thread.joinable())
        control_thread.join();
    if (stream != nullptr)
        stream->stop();
    read_side();
    print_statistics(engine, meters_read, scope_read, o.control_rate > 0.0 ? &control : nullptr);
    if (stream != nullptr)
    {
        const courier::audio::disk_streamer_stats d = stream->stats();
        std::printf("  B10 buffer_pool      disk -> audio     blocks read %llu, played %llu, frames %llu, "
                    "underruns %llu (%llu frames of silence)%s\n",
                    static_cast<unsigned long long>(d.blocks_read), static_cast<unsigned long long>(d.blocks_received),
                    static_cast<unsigned long long>(d.frames_mixed), static_cast<unsigned long long>(d.underruns),
                    static_cast<unsigned long long>(d.underrun_frames), d.finished ? ", file finished" : "");
    }
    if (o.control_rate > 0.0)
        std::printf("  control thread: %llu sent (%llu through the mailbox, %llu by name), %llu refused\n",
                    static_cast<unsigned long long>(control.sent + control.sent_by_name),
                    static_cast<unsigned long long>(control.sent), static_cast<unsigned long long>(control.sent_by_name),
                    static_cast<unsigned long long>(control.refused));
    return status;
}

}  // namespace

int main(int argc, char** argv)
{
    try
    {
        return run(parse_arguments(argc, argv));
    }
    catch (const usage_error& e)
    {
        std::fprintf(stderr, "courier-synth: %s\nTry 'courier-synth --help'.\n", e.what());
        return 2;
    }
    catch (const courier::synth::score_error& e)
    {
        std::fprintf(stderr, "courier-synth: bad score line: %s\n", e.what());
        return 2;
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "courier-synth: %s\n", e.what());
        return EXIT_FAILURE;
    }
}
