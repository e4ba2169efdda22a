// SPDX-License-Identifier: MIT
// courier-synth's closing report, printed on the main thread once the stream has stopped (demos/synth/README.md).
#include "demos/synth/synth_report.h"

#include <cstdio>
#include <string>

namespace courier::synth {

void print_statistics(audio::engine& engine, std::uint64_t meters_read, std::uint64_t scope_read,
                      const chatter* control)
{
    const audio::engine_stats s = engine.stats();
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
    const timed_events_stats t = engine.timed_stats();
    std::printf("  timed_events         score -> audio    sent %llu, received %llu, refused %llu, late %llu\n",
                static_cast<unsigned long long>(t.lane.sent), static_cast<unsigned long long>(t.lane.received),
                static_cast<unsigned long long>(t.lane.refused), static_cast<unsigned long long>(t.late));
    if (control != nullptr)
    {
        const lane_stats m = engine.mailbox_stats(0);
        std::printf("  mailbox              control -> audio  sent %llu, received %llu (%llu still queued at stop), "
                    "refused %llu\n",
                    static_cast<unsigned long long>(m.sent), static_cast<unsigned long long>(m.received),
                    static_cast<unsigned long long>(m.sent - m.received), static_cast<unsigned long long>(m.refused));
    }
    for (const std::string& name : engine.processor_names())
    {
        // Each port has one lane per registry reader; the control thread's is lane 0.
        const port<audio::engine_event>& p = engine.processor_port(name);
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
    const swap_and_retire_stats g = engine.graph_stats();
    std::printf("  swap_and_retire      control -> audio  graphs published %llu, adopted %llu, returned %llu\n",
                static_cast<unsigned long long>(g.publications.sent),
                static_cast<unsigned long long>(g.publications.received),
                static_cast<unsigned long long>(g.returns.returned));
    std::printf("  state_observer       audio -> control  meters published %llu, read %llu\n",
                static_cast<unsigned long long>(engine.meters_published()),
                static_cast<unsigned long long>(meters_read));
    const in_flight_stats p = engine.scope_stats();
    std::printf("  buffer_pool          audio -> control  scope buffers sent %llu, read %llu, returned %llu, "
                "starved %llu\n",
                static_cast<unsigned long long>(engine.stats().scope_sent), static_cast<unsigned long long>(scope_read),
                static_cast<unsigned long long>(p.returned), static_cast<unsigned long long>(p.refused));
}

void print_stream_statistics(const audio::disk_streamer_stats& d)
{
    std::printf("  buffer_pool          disk -> audio     blocks read %llu, played %llu, frames %llu, "
                "underruns %llu (%llu frames of silence)%s\n",
                static_cast<unsigned long long>(d.blocks_read), static_cast<unsigned long long>(d.blocks_received),
                static_cast<unsigned long long>(d.frames_mixed), static_cast<unsigned long long>(d.underruns),
                static_cast<unsigned long long>(d.underrun_frames), d.finished ? ", file finished" : "");
}

void print_control_statistics(const chatter& control)
{
    std::printf("  control thread: %llu sent (%llu through the mailbox, %llu by name), %llu refused\n",
                static_cast<unsigned long long>(control.sent + control.sent_by_name),
                static_cast<unsigned long long>(control.sent), static_cast<unsigned long long>(control.sent_by_name),
                static_cast<unsigned long long>(control.refused));
}

}  // namespace courier::synth
