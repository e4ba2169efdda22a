// SPDX-License-Identifier: MIT
// The PortAudio driver: device lookup, stream setup and the real-time trampoline (audio/README.md).
#include <courier/audio/portaudio_driver.h>

#include <courier/audio/driver_error.h>

#include <portaudio.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string_view>

namespace courier::audio {

namespace {

// The PortAudio stream callback: counts an xrun if PortAudio flags one, forwards the block to the
// audio_callback, and does nothing else. With paNonInterleaved and paFloat32, PortAudio hands over arrays
// of per-channel float pointers, which are exactly what process() takes, so there is no copy. Runs on the
// device's thread.
int forward_to_callback(const void* input, void* output, unsigned long frames,
                        const PaStreamCallbackTimeInfo* /*time*/, PaStreamCallbackFlags status,
                        void* user) noexcept COURIER_REALTIME
{
    auto* target = static_cast<detail::portaudio_link*>(user);
    if ((status & (paInputOverflow | paOutputUnderflow)) != 0)
    {
        // One writer (this thread): a plain read-modify-write, relaxed because it is only a counter.
        target->xruns.store(target->xruns.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    target->callback->process(static_cast<const float* const*>(input), static_cast<float* const*>(output),
                            static_cast<std::size_t>(frames));
    // Release: this block's writes happen before the control thread's acquire in stop() when the host lost
    // the stream (the JACK server died), after which this thread never calls process() again.
    target->blocks.store(target->blocks.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return paContinue;
}

std::string lowercase(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool contains_ignoring_case(std::string_view haystack, std::string_view needle)
{
    return lowercase(haystack).find(lowercase(needle)) != std::string::npos;
}

std::string error_text(PaError error)
{
    std::string text = Pa_GetErrorText(error);
    if (error == paUnanticipatedHostError)
    {
        const PaHostErrorInfo* host = Pa_GetLastHostErrorInfo();
        if (host != nullptr && host->errorText != nullptr)
            text += std::string(" (") + host->errorText + ")";
    }
    return text;
}

void check(PaError error, const std::string& what)
{
    if (error < 0)
        throw driver_error("courier::audio::portaudio_driver: " + what + ": " + error_text(error));
}

std::size_t to_size(int n) { return n > 0 ? static_cast<std::size_t>(n) : 0; }

std::string quoted_list(const std::vector<std::string>& names)
{
    if (names.empty())
        return "none";
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "'" : ", '") + n + "'";
    return out;
}

// Finds the host API the request names, or throws listing the ones there are.
PaHostApiIndex find_host_api(const std::string& wanted)
{
    if (wanted.empty() || lowercase(wanted) == "default")
    {
        const PaHostApiIndex index = Pa_GetDefaultHostApi();
        check(index, "no default host API");
        return index;
    }
    std::vector<std::string> names;
    for (PaHostApiIndex i = 0; i < Pa_GetHostApiCount(); ++i)
    {
        const PaHostApiInfo* api = Pa_GetHostApiInfo(i);
        if (contains_ignoring_case(api->name, wanted))
            return i;
        names.emplace_back(api->name);
    }
    std::string message = "courier::audio::portaudio_driver: no host API matching '" + wanted +
                          "'; this PortAudio has " + quoted_list(names);
    if (contains_ignoring_case("jack", wanted))
        message += " (PortAudio lists JACK only while a JACK server is running and was running when the "
                   "driver was made; is jackd up, and JACK_DEFAULT_SERVER right?)";
    if (contains_ignoring_case("pulseaudio", wanted))
        message += " (PortAudio 19.6 has no PulseAudio host API: open host API 'ALSA', device 'pulse')";
    throw driver_error(message);
}

// Finds the device of host API `api` the request names, or throws listing that host API's devices.
PaDeviceIndex find_device(PaHostApiIndex api, const std::string& wanted, bool wants_output)
{
    const PaHostApiInfo* info = Pa_GetHostApiInfo(api);
    if (wanted.empty())
    {
        const PaDeviceIndex index = wants_output ? info->defaultOutputDevice : info->defaultInputDevice;
        if (index == paNoDevice)
            throw driver_error(std::string("courier::audio::portaudio_driver: host API '") + info->name +
                               "' has no default " + (wants_output ? "output" : "input") + " device (it has " +
                               std::to_string(info->deviceCount) + " devices)");
        return index;
    }
    std::vector<std::string> names;
    std::vector<PaDeviceIndex> partial;
    for (int i = 0; i < info->deviceCount; ++i)
    {
        const PaDeviceIndex index = Pa_HostApiDeviceIndexToDeviceIndex(api, i);
        check(index, "listing the devices of '" + std::string(info->name) + "'");
        const std::string name = Pa_GetDeviceInfo(index)->name;
        if (lowercase(name) == lowercase(wanted))
            return index;  // an exact name wins over any substring match
        if (contains_ignoring_case(name, wanted))
            partial.push_back(index);
        names.push_back(name);
    }
    if (partial.size() == 1)
        return partial.front();
    std::vector<std::string> candidates;
    for (const PaDeviceIndex index : partial)
        candidates.emplace_back(Pa_GetDeviceInfo(index)->name);
    if (partial.empty())
        throw driver_error("courier::audio::portaudio_driver: no device matching '" + wanted + "' in host API '" +
                           info->name + "'; it has " + quoted_list(names));
    throw driver_error("courier::audio::portaudio_driver: device name '" + wanted + "' is ambiguous in host API '" +
                       info->name + "': it matches " + quoted_list(candidates));
}

PaStreamParameters parameters(PaDeviceIndex device, std::size_t channels, bool output)
{
    const PaDeviceInfo* info = Pa_GetDeviceInfo(device);
    PaStreamParameters p{};
    p.device = device;
    p.channelCount = static_cast<int>(channels);
    p.sampleFormat = paFloat32 | paNonInterleaved;
    p.suggestedLatency = output ? info->defaultLowOutputLatency : info->defaultLowInputLatency;
    p.hostApiSpecificStreamInfo = nullptr;
    return p;
}

}  // namespace

portaudio_driver::portaudio_driver()
{
    check(Pa_Initialize(), "Pa_Initialize");
}

portaudio_driver::~portaudio_driver()
{
    close();
    // Balances the constructor's Pa_Initialize; PortAudio counts them, so other drivers keep theirs. Not after a
    // lost stream: Pa_Terminate closes every open stream, and closing the abandoned one waits 10 minutes.
    if (!abandoned)
        static_cast<void>(Pa_Terminate());
}

std::string portaudio_driver::version() { return Pa_GetVersionText(); }

std::vector<host_api_info> portaudio_driver::host_apis() const
{
    std::vector<host_api_info> out;
    const PaHostApiIndex default_api = Pa_GetDefaultHostApi();
    for (PaHostApiIndex i = 0; i < Pa_GetHostApiCount(); ++i)
    {
        const PaHostApiInfo* api = Pa_GetHostApiInfo(i);
        out.push_back({api->name, to_size(api->deviceCount), i == default_api});
    }
    return out;
}

std::vector<device_info> portaudio_driver::devices() const
{
    std::vector<device_info> out;
    for (PaDeviceIndex i = 0; i < Pa_GetDeviceCount(); ++i)
    {
        const PaDeviceInfo* device = Pa_GetDeviceInfo(i);
        const PaHostApiInfo* api = Pa_GetHostApiInfo(device->hostApi);
        out.push_back({device->name, api->name, to_size(device->maxInputChannels),
                       to_size(device->maxOutputChannels), device->defaultSampleRate,
                       api->defaultInputDevice == i, api->defaultOutputDevice == i});
    }
    return out;
}

std::string portaudio_driver::describe() const
{
    std::ostringstream out;
    out << version() << '\n';
    const auto all_devices = devices();
    for (const auto& api : host_apis())
    {
        out << "host API '" << api.name << "'" << (api.is_default ? " (default)" : "") << ": " << api.device_count
            << (api.device_count == 1 ? " device\n" : " devices\n");
        for (const auto& d : all_devices)
        {
            if (d.host_api != api.name)
                continue;
            out << "  '" << d.name << "': " << d.max_input_channels << " in, " << d.max_output_channels
                << " out, " << d.default_sample_rate << " Hz" << (d.is_default_input ? ", default input" : "")
                << (d.is_default_output ? ", default output" : "") << '\n';
        }
    }
    return out.str();
}

void portaudio_driver::open(const device_request& request, audio_callback& callback)
{
    if (stream != nullptr)
        throw driver_error("courier::audio::portaudio_driver: open: a stream is already open; close() it first");
    const stream_config& wanted = request.config;
    if (wanted.block_size == 0 || wanted.sample_rate <= 0.0)
        throw driver_error("courier::audio::portaudio_driver: open: the block size and sample rate must be > 0");
    if (wanted.input_channels == 0 && wanted.output_channels == 0)
        throw driver_error("courier::audio::portaudio_driver: open: a stream needs input or output channels");

    const PaHostApiIndex api = find_host_api(request.host_api);
    const PaDeviceIndex device = find_device(api, request.device, wanted.output_channels > 0);
    const PaDeviceInfo* device_data = Pa_GetDeviceInfo(device);
    const std::string api_name = Pa_GetHostApiInfo(api)->name;
    const std::string device_name = device_data->name;
    const std::string where = "device '" + device_name + "' of host API '" + api_name + "'";

    if (wanted.input_channels > to_size(device_data->maxInputChannels) ||
        wanted.output_channels > to_size(device_data->maxOutputChannels))
        throw driver_error("courier::audio::portaudio_driver: " + where + " has " +
                           std::to_string(device_data->maxInputChannels) + " input and " +
                           std::to_string(device_data->maxOutputChannels) + " output channels; " +
                           std::to_string(wanted.input_channels) + " and " + std::to_string(wanted.output_channels) +
                           " were asked for");

    const PaStreamParameters in = parameters(device, wanted.input_channels, false);
    const PaStreamParameters out = parameters(device, wanted.output_channels, true);
    const PaStreamParameters* in_p = wanted.input_channels > 0 ? &in : nullptr;
    const PaStreamParameters* out_p = wanted.output_channels > 0 ? &out : nullptr;

    std::ostringstream rate;
    rate << wanted.sample_rate << " Hz";
    const PaError supported = Pa_IsFormatSupported(in_p, out_p, wanted.sample_rate);
    if (supported == paInvalidSampleRate)
    {
        std::ostringstream preferred;
        preferred << device_data->defaultSampleRate << " Hz";
        throw driver_error("courier::audio::portaudio_driver: " + where + " does not support " + rate.str() +
                           " (its default rate is " + preferred.str() + "): " + error_text(supported));
    }
    check(supported, where + " refuses " + rate.str() + " float32 non-interleaved");

    // No stream is open, so the device's thread does not read `link` now; Pa_OpenStream publishes it.
    link.callback = &callback;
    link.xruns.store(0, std::memory_order_relaxed);
    link.blocks.store(0, std::memory_order_relaxed);
    PaStream* opened_stream = nullptr;
    check(Pa_OpenStream(&opened_stream, in_p, out_p, wanted.sample_rate, static_cast<unsigned long>(wanted.block_size),
                        paNoFlag, &forward_to_callback, &link),
          "opening " + where + " at " + rate.str());

    const PaStreamInfo* actual = Pa_GetStreamInfo(opened_stream);
    stream_info result;
    result.config = wanted;
    result.host_api = api_name;
    result.device = device_name;
    if (actual != nullptr)
    {
        result.config.sample_rate = actual->sampleRate;
        result.input_latency = actual->inputLatency;
        result.output_latency = actual->outputLatency;
    }
    try
    {
        callback.prepare(result.config);  // before start(), so never concurrent with process()
    }
    catch (...)
    {
        static_cast<void>(Pa_CloseStream(opened_stream));
        throw;
    }
    stream = opened_stream;
    on_jack = Pa_GetHostApiInfo(api)->type == paJACK;
    opened = std::move(result);
}

void portaudio_driver::start()
{
    if (stream == nullptr)
        throw driver_error("courier::audio::portaudio_driver: start: no stream is open");
    if (running)
        return;
    check(Pa_StartStream(static_cast<PaStream*>(stream)), "starting the stream on '" + opened.device + "'");
    running = true;
}

bool portaudio_driver::stream_lost() const noexcept
{
    // PortAudio's JACK host clears the stream's "active" flag in JACK's shutdown callback, after the last
    // process cycle; the stream itself still counts as running (it was never stopped).
    return stream != nullptr && running && on_jack && Pa_IsStreamActive(static_cast<PaStream*>(stream)) == 0;
}

void portaudio_driver::stop()
{
    if (stream == nullptr || !running)
        return;
    if (stream_lost())
    {
        // The JACK server is gone. PortAudio 19.6's JACK host cannot stop such a stream: Pa_StopStream,
        // Pa_AbortStream and Pa_CloseStream each wait (10 minutes) for a process cycle to acknowledge, and none
        // comes. The host calls process() no more, so the stream is abandoned to PortAudio as it is (its memory
        // stays reachable from PortAudio's own state until the process exits) and nothing of it is called again.
        running = false;
        abandoned = true;
        // Acquire, partner of the trampoline's release: the last block's writes happen before anything the
        // caller now does to the callback (destroying it, on this thread).
        static_cast<void>(link.blocks.load(std::memory_order_acquire));
        return;
    }
    running = false;
    // Pa_StopStream returns after the last callback has returned: no process() runs after this line.
    check(Pa_StopStream(static_cast<PaStream*>(stream)), "stopping the stream on '" + opened.device + "'");
}

void portaudio_driver::close() noexcept
{
    if (stream == nullptr)
        return;
    if (running && stream_lost())
        stop();  // abandons it: PortAudio cannot stop or close it any more
    if (abandoned)
    {
        stream = nullptr;  // left to PortAudio (see stop()); the callback may be destroyed now
        return;
    }
    auto* s = static_cast<PaStream*>(stream);
    if (running)
        static_cast<void>(Pa_StopStream(s));  // a failure here leaves nothing else to do but close
    running = false;
    static_cast<void>(Pa_CloseStream(s));
    stream = nullptr;
}

stream_info portaudio_driver::info() const
{
    if (stream == nullptr)
        throw driver_error("courier::audio::portaudio_driver: info: no stream is open");
    return opened;
}

}  // namespace courier::audio
