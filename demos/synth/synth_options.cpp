// SPDX-License-Identifier: MIT
// courier-synth's command line: the --help text, the parsing of every option and the checks on their values
// (demos/synth/README.md).
#include "demos/synth/synth_options.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace courier::synth {

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
                       until --duration has passed or SIGINT/SIGTERM (offline: paced in real time, and
                       with --output recorded to that WAV file), and prints the OSC counters at the end
  --osc-socket PATH    enable the OSC endpoint on a Unix datagram socket at PATH (mode 0600)
  --osc-tcp N          enable OSC over TCP on port N, int32 size-prefix framing (scsynth, SuperCollider NetAddr)
  --osc-tcp-slip N     enable OSC over TCP on port N, SLIP framing (OSC 1.1)
  --osc-secret TEXT    TCP connections must send /auth TEXT first (else /fail and closed)
  --osc-tcp-idle S     close a TCP connection that brings no whole packet for S seconds (0: never)
  --osc-bind ADDR      bind the OSC UDP and TCP ports to ADDR instead of 127.0.0.1 (0.0.0.0: every interface)
  --osc-load-root DIR  OSC /load reads sound files under DIR only (default: the current directory)
  --osc-lease S        an OSC subscription over UDP ends S seconds after its subscriber last sent anything
                       (default 30; 0: never)
  --duration S         with the OSC endpoint on: stop after S seconds (default: run until a signal)
  --soak S             test hook (tests/soak/soak.sh; needs the OSC endpoint): run S seconds while injecting
                       the faults below, then stop the control thread, wait until every lane is empty, and print
                       "soak:" figures; --soak-swap-every S (graph swaps, default 1), --soak-pause-every S and
                       --soak-pause-for S (stop and restart the stream), --soak-stall-every S and --soak-stall-for S
                       (the main thread stops polling), --soak-watchdog S (no callback for S seconds: exit 1,
                       default 3), --stream-stall-every N and --stream-stall S (the disk worker sleeps S seconds
                       before every Nth block)
  --help               show this text

An option that has no effect in the chosen mode (--duration without the OSC endpoint, --stream-gain without
--stream, --device with --offline, ...) is refused as a bad argument.

Exit status: 0 on success, 1 when audio or a file fails (a --score file that is missing, a directory or
unreadable, too), 2 for a bad argument or a bad score line.
)";

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

// Refuses an option the chosen mode would ignore: accepting it in silence would let a user believe it acts.
void refuse_options_without_effect(const synth_options& o, const std::set<std::string>& given)
{
    auto refuse_unless = [&](bool takes_effect, const char* option, const char* why) {
        if (!takes_effect && given.contains(option))
            throw usage_error(std::string(option) + " has no effect " + why);
    };
    if (o.print_demo)
        for (const std::string& option : given)
            refuse_unless(option == "--print-demo", option.c_str(), "with --print-demo (it prints the demo and exits)");
    const bool osc = o.osc.enabled();
    const bool tcp = o.osc.tcp_port >= 0 || o.osc.tcp_slip_port >= 0;
    refuse_unless(o.osc.udp_port >= 0 || tcp, "--osc-bind", "without --osc-port, --osc-tcp or --osc-tcp-slip");
    refuse_unless(tcp, "--osc-tcp-idle", "without --osc-tcp or --osc-tcp-slip");
    refuse_unless(tcp, "--osc-secret", "without --osc-tcp or --osc-tcp-slip (only TCP connections authenticate)");
    refuse_unless(osc, "--duration", "without the OSC endpoint (the score's length decides)");
    refuse_unless(osc, "--osc-load-root", "without the OSC endpoint");
    refuse_unless(osc, "--osc-lease", "without the OSC endpoint");
    refuse_unless(!o.stream_path.empty(), "--stream-gain", "without --stream");
    refuse_unless(!o.stream_path.empty(), "--stream-loop", "without --stream");
    refuse_unless(!o.offline, "--host-api", "with --offline (no device is opened)");
    refuse_unless(!o.offline, "--device", "with --offline (no device is opened)");
    refuse_unless(!osc || o.offline, "--output", "with the OSC endpoint on a device (only --offline records it)");
    refuse_unless(!osc || o.offline, "--pcm24", "with the OSC endpoint on a device (only --offline records it)");
    refuse_unless(!osc, "--tail", "with the OSC endpoint on (--duration or a signal ends the run)");
    for (const char* option : {"--soak-swap-every", "--soak-pause-every", "--soak-pause-for", "--soak-stall-every",
                               "--soak-stall-for", "--soak-watchdog"})
        refuse_unless(o.soak.enabled(), option, "without --soak");
    for (const char* option : {"--stream-stall-every", "--stream-stall"})
        refuse_unless(o.soak.enabled() && !o.stream_path.empty(), option, "without --soak and --stream");
}

}  // namespace

synth_options parse_arguments(int argc, char** argv)
{
    synth_options o;
    std::set<std::string> given;  // every option named, to refuse those the mode ignores
    for (int i = 1; i < argc; ++i)
    {
        const std::string arg = argv[i];
        given.insert(arg);
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
                o.synth.shape = waveform::sine;
            else if (w == "saw")
                o.synth.shape = waveform::saw;
            else if (w == "square")
                o.synth.shape = waveform::square;
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
        else if (parse_osc_option(arg, value, number_option, o.osc))
            continue;
        else if (parse_soak_option(arg, value, number_option, o.soak))
            continue;
        else if (arg == "--control-rate")
            o.control_rate = number_option(arg, value(), 0.0, 1000000.0);
        else
            throw usage_error("unknown argument '" + arg + "'");
    }
    refuse_options_without_effect(o, given);
    if (o.osc.enabled() && o.offline && given.contains("--output"))
    {
        o.osc.record_path = o.output;  // the OSC run records what it plays (osc_control.h)
        o.osc.record_pcm24 = o.pcm24;
    }
    return o;
}

score load_score(const synth_options& o)
{
    if (o.score_path.empty())
    {
        std::istringstream demo{std::string(demo_score_text())};
        return parse_score(demo, "demo");
    }
    if (o.score_path == "-")
        return parse_score(std::cin, "stdin");
    // A file that fails is status 1, as for every other file: it is not a bad argument.
    std::error_code ec;
    const auto type = std::filesystem::status(o.score_path, ec).type();
    if (type == std::filesystem::file_type::not_found)
        throw std::runtime_error("cannot open the score '" + o.score_path + "': no such file");
    if (type == std::filesystem::file_type::directory)
        throw std::runtime_error("cannot read the score '" + o.score_path + "': it is a directory, not a file");
    std::ifstream file(o.score_path);
    if (!file)
        throw std::runtime_error("cannot open the score '" + o.score_path + "'" +
                                 (ec ? ": " + ec.message() : std::string()));
    score parsed = parse_score(file, o.score_path);
    if (file.bad())
        throw std::runtime_error("cannot read the score '" + o.score_path + "'");
    return parsed;
}

}  // namespace courier::synth
