// SPDX-License-Identifier: MIT
// The offline driver: block loop, WAV output through libsndfile, paced thread (audio/README.md).
#include <courier/audio/offline_driver.h>

#include <courier/audio/driver_error.h>

#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>

namespace courier::audio {

namespace {

struct sndfile_closer
{
    void operator()(SNDFILE* file) const noexcept { static_cast<void>(sf_close(file)); }
};
using sndfile_ptr = std::unique_ptr<SNDFILE, sndfile_closer>;

[[noreturn]] void fail(const std::string& what) { throw driver_error("courier::audio::offline_driver: " + what); }

// Opens `path` for writing the output of `shape` as a WAV file (created or overwritten).
sndfile_ptr open_wav(const stream_config& shape, const std::filesystem::path& path, wav_format format)
{
    if (shape.output_channels == 0)
        fail("a WAV file needs at least one output channel");
    const double whole_rate = std::round(shape.sample_rate);
    if (whole_rate != shape.sample_rate || whole_rate > 2147483647.0)
        fail("a WAV file needs a whole-number sample rate, not " + std::to_string(shape.sample_rate));
    SF_INFO info{};
    info.samplerate = static_cast<int>(whole_rate);
    info.channels = static_cast<int>(shape.output_channels);
    info.format = SF_FORMAT_WAV | (format == wav_format::float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_24);
    const std::string name = path.string();
    sndfile_ptr file(sf_open(name.c_str(), SFM_WRITE, &info));
    if (!file)
        fail("cannot open '" + name + "' for writing: " + sf_strerror(nullptr));
    // A PEAK chunk carries the time of writing, which would make two renders differ: leave it out.
    sf_command(file.get(), SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
    // Integer formats clip samples beyond ±1.0 instead of wrapping them round.
    sf_command(file.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
    return file;
}

}  // namespace

offline_driver::offline_driver(const stream_config& config) : shape(config)
{
    if (config.block_size == 0 || !(config.sample_rate > 0.0))
        fail("the block size and sample rate must be > 0");
    inputs.assign(config.input_channels, std::vector<float>(config.block_size, 0.0f));
    outputs.assign(config.output_channels, std::vector<float>(config.block_size, 0.0f));
    for (const auto& channel : inputs)
        input_pointers.push_back(channel.data());
    for (auto& channel : outputs)
        output_pointers.push_back(channel.data());
}

offline_driver::~offline_driver() { stop(); }

interleaved_audio offline_driver::render(audio_callback& callback, std::size_t frames, std::span<const float> input)
{
    if (is_running())
        fail("render: the driver is started; stop() it first");
    callback.prepare(shape);
    interleaved_audio result;
    result.sample_rate = shape.sample_rate;
    result.channels = shape.output_channels;
    result.samples.resize(frames * shape.output_channels);
    for (std::size_t done = 0; done < frames;)
    {
        const std::size_t n = std::min(shape.block_size, frames - done);
        run_block(callback, n, input, done);
        interleave_into(result.samples.data() + done * shape.output_channels, n);
        done += n;
    }
    return result;
}

void offline_driver::render_to_file(audio_callback& callback, std::size_t frames, const std::filesystem::path& path,
                                    wav_format format, std::span<const float> input,
                                    const std::function<void()>& between_blocks)
{
    if (is_running())
        fail("render_to_file: the driver is started; stop() it first");
    sndfile_ptr file = open_wav(shape, path, format);
    const std::string name = path.string();
    callback.prepare(shape);
    std::vector<float> block(shape.block_size * shape.output_channels);
    for (std::size_t done = 0; done < frames;)
    {
        const std::size_t n = std::min(shape.block_size, frames - done);
        run_block(callback, n, input, done);
        interleave_into(block.data(), n);
        if (sf_writef_float(file.get(), block.data(), static_cast<sf_count_t>(n)) != static_cast<sf_count_t>(n))
            fail("writing '" + name + "' failed: " + sf_strerror(file.get()));
        done += n;
        if (between_blocks)
            between_blocks();
    }
    // Closing flushes the header's sizes: check it, which the unique_ptr's deleter cannot.
    if (sf_close(file.release()) != 0)
        fail("closing '" + name + "' failed: " + sf_strerror(nullptr));
}

void offline_driver::start(audio_callback& callback, pacing mode)
{
    if (is_running())
        fail("start: already started");
    callback.prepare(shape);  // before the thread exists, so never concurrent with process()
    started_unix_ns.store(0, std::memory_order_relaxed);  // the thread's creation publishes it
    stop_requested.store(false, std::memory_order_relaxed);  // the thread's creation publishes it
    worker = std::thread([this, &callback, mode] { run_thread(callback, mode); });
}

void offline_driver::start(audio_callback& callback, pacing mode, const std::filesystem::path& path,
                           wav_format format)
{
    if (is_running())
        fail("start: already started");
    sndfile_ptr file = open_wav(shape, path, format);
    recording_block.assign(shape.block_size * shape.output_channels, 0.0f);
    record_ok = true;
    recording = file.release();  // the worker writes it; stop() closes it
    start(callback, mode);
}

void offline_driver::write_recording(std::size_t frames) noexcept
{
    if (recording == nullptr || !record_ok)
        return;
    interleave_into(recording_block.data(), frames);
    auto* file = static_cast<SNDFILE*>(recording);
    if (sf_writef_float(file, recording_block.data(), static_cast<sf_count_t>(frames)) != static_cast<sf_count_t>(frames))
        record_ok = false;  // a full disk: the rest is not written, and recorded_all() says so
}

void offline_driver::stop() noexcept
{
    if (!worker.joinable())
        return;
    // A flag only: join() below is what orders the thread's last block before our return.
    stop_requested.store(true, std::memory_order_relaxed);
    worker.join();
    if (recording != nullptr)
    {
        // Closing flushes the header's sizes: a failure here means the file is not whole.
        if (sf_close(static_cast<SNDFILE*>(recording)) != 0)
            record_ok = false;
        recording = nullptr;
    }
}

void offline_driver::run_block(audio_callback& callback, std::size_t frames, std::span<const float> input,
                               std::size_t offset) noexcept
{
    const std::size_t in_channels = shape.input_channels;
    for (std::size_t c = 0; c < in_channels; ++c)
    {
        for (std::size_t i = 0; i < frames; ++i)
        {
            const std::size_t at = (offset + i) * in_channels + c;
            inputs[c][i] = at < input.size() ? input[at] : 0.0f;  // silence past the end of the input
        }
    }
    for (auto& channel : outputs)
        std::fill(channel.begin(), channel.begin() + static_cast<std::ptrdiff_t>(frames), 0.0f);
    callback.process(in_channels > 0 ? input_pointers.data() : nullptr,
                     shape.output_channels > 0 ? output_pointers.data() : nullptr, frames);
    // One writer (the audio thread of the moment): a plain read-modify-write is enough.
    clock.store(clock.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
}

void offline_driver::interleave_into(float* destination, std::size_t frames) const noexcept
{
    const std::size_t channels = shape.output_channels;
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t i = 0; i < frames; ++i)
            destination[i * channels + c] = outputs[c][i];
}

void offline_driver::run_thread(audio_callback& callback, pacing mode) noexcept
{
    using clock_type = std::chrono::steady_clock;
    const auto started = clock_type::now();
    started_unix_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count(),
                          std::memory_order_relaxed);  // a value read on its own (started_unix_nanoseconds)
    std::uint64_t frames = 0;
    while (!stop_requested.load(std::memory_order_relaxed))  // a flag only: see stop()
    {
        run_block(callback, shape.block_size, {}, 0);
        write_recording(shape.block_size);
        frames += shape.block_size;
        if (mode == pacing::real_time)
        {
            // Deadlines come from the frame count, not from the previous wake-up, so lateness never adds up.
            const std::chrono::duration<double> due(static_cast<double>(frames) / shape.sample_rate);
            std::this_thread::sleep_until(started + std::chrono::duration_cast<clock_type::duration>(due));
        }
    }
}

interleaved_audio read_wav(const std::filesystem::path& path)
{
    const std::string name = path.string();
    SF_INFO info{};
    sndfile_ptr file(sf_open(name.c_str(), SFM_READ, &info));
    if (!file)
        throw driver_error("courier::audio::read_wav: cannot open '" + name + "': " + sf_strerror(nullptr));
    interleaved_audio result;
    result.sample_rate = info.samplerate;
    result.channels = static_cast<std::size_t>(info.channels);
    result.samples.resize(static_cast<std::size_t>(info.frames) * result.channels);
    const sf_count_t got = sf_readf_float(file.get(), result.samples.data(), info.frames);
    if (got != info.frames)
        throw driver_error("courier::audio::read_wav: reading '" + name + "' stopped after " + std::to_string(got) +
                           " of " + std::to_string(info.frames) + " frames: " + sf_strerror(file.get()));
    return result;
}

}  // namespace courier::audio
