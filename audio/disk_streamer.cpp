// SPDX-License-Identifier: MIT
// The disk streamer: libsndfile on a worker_loop thread, a buffer_pool loop to the audio side (audio/README.md).
#include <courier/audio/disk_streamer.h>

#include <courier/audio/driver_error.h>
#include <courier/counter.h>
#include <courier/patterns/buffer_pool.h>
#include <courier/patterns/worker_loop.h>

#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace courier::audio {
namespace {

struct sndfile_closer
{
    void operator()(SNDFILE* f) const noexcept { sf_close(f); }
};

// One buffer of the loop: interleaved file frames, and how many it holds (0: the file has ended).
struct chunk
{
    std::vector<float> samples;
    std::size_t frames = 0;
};

std::size_t positive(std::size_t n, const char* what)
{
    if (n == 0)
        throw std::invalid_argument(std::string("courier::audio::disk_streamer: ") + what + " must be at least 1");
    return n;
}

}  // namespace

namespace detail {

// The worker's one poll source: fills every free buffer of the loop (each one the audio side returned is its
// request for the next block) and sends it back through the loop's send lane (the completion lane).
struct fill_free_buffers
{
    disk_streamer_state* state;
    std::size_t operator()(std::size_t max);
};

struct disk_streamer_state
{
    disk_streamer_state(const std::filesystem::path& path, const disk_streamer_config& c);

    void read_block(chunk& into);  // worker thread
    std::size_t read_file(float* into, std::size_t frames);  // worker thread: file frames, looping as set
    bool next_source_frame();  // worker thread: moves the resampler on by one file frame; false at the end

    const disk_streamer_config settings;
    SF_INFO info{};
    std::unique_ptr<SNDFILE, sndfile_closer> file;
    bool file_ended = false;  // worker thread only

    // Resampling (set_output_rate; used by the worker thread only once it starts): the file frames `before` and
    // `after` the output position, `phase` in [0, 1) between them, read through `source` in blocks.
    double step = 1.0;  // file frames per output frame; 1: no resampling
    std::vector<float> source;
    std::size_t source_frames = 0;
    std::size_t source_next = 0;
    std::vector<float> before;
    std::vector<float> after;
    double phase = 0.0;
    bool source_ended = false;

    buffer_pool<chunk> loop;
    // Audio thread only: the buffer being played (declared after `loop`, so it goes back first).
    buffer_lease<chunk> current;
    std::size_t position = 0;
    bool finished = false;
    float gain = 1.0F;  // audio thread only: set_gain(), starts at settings.gain

    worker_loop<fill_free_buffers> worker;
    bool started = false;  // control thread only

    // Written by one thread each (the worker: blocks_read; the audio thread: the rest); relaxed counters.
    counter blocks_read;
    counter frames_mixed;
    counter blocks_received;
    counter underruns;
    counter underrun_frames;
    std::atomic<bool> finished_flag{false};
    std::atomic<bool> file_end_sent{false};  // the worker has sent a short block: the file ended

};

std::size_t fill_free_buffers::operator()(std::size_t max)
{
    std::size_t filled = 0;
    while (filled < max)
    {
        buffer_lease<chunk> free = state->loop.try_acquire();  // empty: every buffer is full or playing
        if (!free)
            break;
        if (state->settings.worker_delay.count() > 0)
            std::this_thread::sleep_for(state->settings.worker_delay);  // the test hook: a slow disk
        const std::size_t every = state->settings.stall_every;
        // blocks_read is this thread's own counter (relaxed).
        if (every > 0 && state->blocks_read.load() % every == every - 1)
            std::this_thread::sleep_for(state->settings.stall);  // the test hook: a disk that stalls now and then
        state->read_block(*free.get());
        if (free.get()->frames < state->settings.block_frames)
            state->file_end_sent.store(true, std::memory_order_relaxed);  // a flag; blocks travel by the lane
        state->loop.send(std::move(free));  // cannot fail: the lane holds every buffer
        state->blocks_read.add(1);
        ++filled;
    }
    return filled;
}

disk_streamer_state::disk_streamer_state(const std::filesystem::path& path, const disk_streamer_config& c)
    : settings(c), file(sf_open(path.string().c_str(), SFM_READ, &info)),
      loop(positive(c.buffers, "buffers"),
           chunk{std::vector<float>(positive(c.block_frames, "block_frames") *
                                    static_cast<std::size_t>(std::max(info.channels, 1))),
                 0}),
      worker(64, std::chrono::milliseconds(1), fill_free_buffers{this})
{
    if (file == nullptr)
        throw driver_error("disk_streamer: cannot open '" + path.string() + "': " + sf_strerror(nullptr));
    if (info.channels <= 0)
        throw driver_error("disk_streamer: '" + path.string() + "' has no channels");
    gain = std::clamp(c.gain, 0.0F, 4.0F);
}

void disk_streamer_state::read_block(chunk& into)
{
    if (step == 1.0)
    {
        into.frames = read_file(into.samples.data(), settings.block_frames);
        return;
    }
    // Linear interpolation between the file frames around each output frame.
    const auto width = static_cast<std::size_t>(info.channels);
    std::size_t made = 0;
    while (made < settings.block_frames && !source_ended)
    {
        const auto t = static_cast<float>(phase);
        for (std::size_t c = 0; c < width; ++c)
            into.samples[made * width + c] = before[c] + t * (after[c] - before[c]);
        ++made;
        phase += step;
        while (phase >= 1.0 && !source_ended)
        {
            phase -= 1.0;
            source_ended = !next_source_frame();
        }
    }
    into.frames = made;
}

bool disk_streamer_state::next_source_frame()
{
    const auto width = static_cast<std::size_t>(info.channels);
    if (source_next == source_frames)
    {
        source_frames = read_file(source.data(), source.size() / width);
        source_next = 0;
        if (source_frames == 0)
            return false;
    }
    before.swap(after);
    std::copy_n(source.begin() + static_cast<std::ptrdiff_t>(source_next * width), width, after.begin());
    ++source_next;
    return true;
}

std::size_t disk_streamer_state::read_file(float* into, std::size_t frames)
{
    const auto width = static_cast<std::size_t>(info.channels);
    std::size_t got = 0;
    bool just_rewound = false;
    while (got < frames && !file_ended)
    {
        const sf_count_t n =
            sf_readf_float(file.get(), into + got * width, static_cast<sf_count_t>(frames - got));
        got += static_cast<std::size_t>(std::max<sf_count_t>(n, 0));
        if (n <= 0 || got < frames)
        {
            // Loop back to the start; a read that returns nothing right after a seek is an error: end there.
            if (settings.loop && info.frames > 0 && (n > 0 || !just_rewound))
            {
                sf_seek(file.get(), 0, SEEK_SET);
                just_rewound = true;
                continue;
            }
            else
                file_ended = true;
        }
        just_rewound = false;
    }
    return got;
}

}  // namespace detail

disk_streamer::disk_streamer(const std::filesystem::path& path, const disk_streamer_config& config)
    : state(std::make_unique<detail::disk_streamer_state>(path, config))
{
}

disk_streamer::~disk_streamer()
{
    stop();
    // The worker has stopped, and the audio side with it (the destructor's precondition): this thread takes
    // over their ends of the loop, so the buffer the audio side was playing goes home from here.
    state->loop.reset_thread_roles();
}  // ✗ the worker, the buffers and the file die here, on the control thread

void disk_streamer::set_output_rate(double rate)
{
    detail::disk_streamer_state& s = *state;
    if (s.started)
        throw std::logic_error("courier::audio::disk_streamer: set_output_rate() after start()");
    if (!(rate >= 0.0))
        throw std::invalid_argument("courier::audio::disk_streamer: the output rate must not be negative");
    if (rate == 0.0 || rate == static_cast<double>(s.info.samplerate))
    {
        s.step = 1.0;
        return;
    }
    const auto width = static_cast<std::size_t>(s.info.channels);
    s.step = static_cast<double>(s.info.samplerate) / rate;
    s.source.assign(s.settings.block_frames * width, 0.0F);
    s.before.assign(width, 0.0F);
    s.after.assign(width, 0.0F);
    s.source_frames = s.source_next = 0;
    s.phase = 0.0;
    // Output frame 0 is file frame 0: `after` holds it, and the first step moves it to `before`.
    s.source_ended = !s.next_source_frame() || !s.next_source_frame();
}

void disk_streamer::start()
{
    if (state->started)
        throw std::logic_error("courier::audio::disk_streamer: start() called twice");
    state->started = true;
    state->worker.start();
    state->worker.signal_and_wake();  // fill every buffer now
}

bool disk_streamer::wait_until_primed(std::chrono::milliseconds timeout)
{
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (state->loop.sent() < state->loop.count())
    {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

void disk_streamer::stop()
{
    if (state->started)
        static_cast<void>(state->worker.stop());
}

std::size_t disk_streamer::mix(float* const* out, std::size_t channels, std::size_t offset,
                               std::size_t frames) noexcept
{
    detail::disk_streamer_state& s = *state;
    const auto width = static_cast<std::size_t>(s.info.channels);
    std::size_t done = 0;
    while (done < frames && !s.finished)
    {
        if (!s.current)
        {
            s.current = s.loop.try_receive();
            s.position = 0;
            if (!s.current)
            {
                // An underrun: the worker is behind. Silence for the rest of this call, counted; never a wait.
                s.underruns.add(1);
                s.underrun_frames.add(frames - done);
                break;
            }
            s.blocks_received.add(1);
            if (s.current.get()->frames == 0)
            {
                s.finished = true;
                s.finished_flag.store(true, std::memory_order_relaxed);  // a flag; nothing is read through it
                s.current.reset();
                break;
            }
        }
        const chunk& c = *s.current.get();
        const std::size_t n = std::min(frames - done, c.frames - s.position);
        for (std::size_t ch = 0; ch < channels; ++ch)
        {
            const float* from = c.samples.data() + s.position * width + ch % width;
            float* to = out[ch] + offset + done;
            for (std::size_t i = 0; i < n; ++i)
                to[i] += s.gain * from[i * width];
        }
        s.position += n;
        done += n;
        if (s.position == c.frames)
        {
            s.current.reset();  // back to the worker through the return lane: the request for the next block
            s.worker.signal();  // wait-free: the worker sees it within its poll interval
        }
    }
    s.frames_mixed.add(done);
    return done;
}

void disk_streamer::set_gain(float linear) noexcept
{
    state->gain = std::clamp(linear, 0.0F, 4.0F);
}

float disk_streamer::gain() const noexcept
{
    return state->gain;
}

std::size_t disk_streamer::frames_ready() const noexcept
{
    const detail::disk_streamer_state& s = *state;
    if (s.finished)
        return SIZE_MAX;
    const std::size_t playing = s.current ? s.current.get()->frames - s.position : 0;
    // blocks_read is written by the worker: relaxed, a count; the blocks themselves come through the loop's lane.
    const std::uint64_t waiting = s.blocks_read.load() -
                                  s.blocks_received.load();
    if (waiting > 0 && s.file_end_sent.load(std::memory_order_relaxed))
        return SIZE_MAX;  // the end is among the waiting blocks: mix() cannot underrun any more
    return playing + static_cast<std::size_t>(waiting) * s.settings.block_frames;
}

double disk_streamer::sample_rate() const noexcept
{
    return static_cast<double>(state->info.samplerate);
}

std::size_t disk_streamer::channels() const noexcept
{
    return static_cast<std::size_t>(state->info.channels);
}

std::uint64_t disk_streamer::length_frames() const noexcept
{
    return static_cast<std::uint64_t>(state->info.frames);
}

disk_streamer_stats disk_streamer::stats() const noexcept
{
    const detail::disk_streamer_state& s = *state;
    disk_streamer_stats r;
    r.requests = s.loop.stats().returned;
    r.requests_refused = 0;  // the request is the returned buffer itself: its lane holds every buffer
    // Counters written by one thread each: relaxed loads.
    r.blocks_read = s.blocks_read.load();
    r.frames_mixed = s.frames_mixed.load();
    r.blocks_received = s.blocks_received.load();
    r.underruns = s.underruns.load();
    r.underrun_frames = s.underrun_frames.load();
    r.finished = s.finished_flag.load(std::memory_order_relaxed);
    return r;
}

}  // namespace courier::audio
