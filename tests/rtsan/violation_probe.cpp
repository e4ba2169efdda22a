// SPDX-License-Identifier: MIT
// A deliberate real-time violation: a command that grows a std::vector, run from a simulated audio callback
// marked COURIER_REALTIME. The RealtimeSanitizer build must abort here; the ctest that runs this program passes
// only when RTSan's report of the allocation appears, so it proves the RTSan build is able to fail.
#include <courier/command_lane.h>

#include <cstdio>
#include <vector>

namespace {

std::vector<float> gain_history;  // outlives the command, so the compiler cannot elide the allocation

courier::command_receiver<void(float&), 32> on_audio;

void process_block(float& gain) noexcept COURIER_REALTIME
{
    on_audio.poll(gain, 16);
}

}  // namespace

int main()
{
    courier::command_lane<void(float&), 32> commands(4);
    auto to_audio = commands.sender();
    on_audio = commands.receiver();
    // The mistake a plugin author makes: keeping a history in a std::vector on the audio thread.
    if (!to_audio.try_send([](float& gain) {
            gain = 0.5f;
            gain_history.push_back(gain);
        }))
        return 2;
    float gain = 1.0f;
    process_block(gain);
    std::printf("probe finished without a RealtimeSanitizer report (%zu entries)\n", gain_history.size());
    return 1;
}
