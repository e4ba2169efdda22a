// SPDX-License-Identifier: MIT
// Built with COURIER_CHECKS=1 (like courier-synth and the test binaries) and linked with courier::engine: the
// library's own files must have been compiled with the same setting, else the program holds two versions of
// courier's inline functions and the linker keeps one of each (an ODR mix). Fails in a build type that sets
// NDEBUG when the library follows NDEBUG while the program asks for checks.
#include <courier/audio/engine.h>

#include <cstdio>

int main()
{
    const int library = courier::audio::engine::compiled_checks();
    if (library != COURIER_CHECKS)
    {
        std::printf("courier::engine was compiled with COURIER_CHECKS=%d, this program with %d: a mix\n", library,
                    COURIER_CHECKS);
        return 1;
    }
    std::printf("courier::engine and this program agree: COURIER_CHECKS=%d\n", library);
    return 0;
}
