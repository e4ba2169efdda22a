-- SPDX-License-Identifier: MIT
-- Run by ardour7-lua (tests/gui/vst3_ardour_session.sh): a session on Ardour's dummy backend, whose inputs
-- play a sine wave, with one stereo track monitoring its input through the courier plugin (VST3). Prints the
-- track's peak level with the plugin's gain at its default (1.0) and then at 0.5 (VST3 normalised 0.25).
backend = AudioEngine:set_backend("None (Dummy)", "", "")
assert(backend, "no dummy backend")
backend:set_device_name("Sine Wave")
local s = create_session(os.getenv("COURIER_SESSION_DIR"), "courier", 48000)
assert(s, "create_session failed")
local t = s:new_audio_track(2, 2, nil, 1, "courier", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()
t:monitoring_control():set_value(ARDOUR.MonitorChoice.MonitorInput, PBD.GroupControlDisposition.NoGroup)
local plug = ARDOUR.LuaAPI.new_plugin(s, "courier plugin", ARDOUR.PluginType.VST3, "")
assert(not plug:isnil(), "Ardour does not know the VST3 'courier plugin'")
t:add_processor_by_index(plug, 0, nil, true)
print("plugin " .. plug:name() .. " on track " .. t:name())
ARDOUR.LuaAPI.usleep(1000000)
print("peak_default " .. t:peak_meter():meter_level(0, ARDOUR.MeterType.MeterPeak))
assert(ARDOUR.LuaAPI.set_processor_param(plug, 0, 0.25), "cannot set parameter 0 (Gain)")
ARDOUR.LuaAPI.usleep(1000000)
print("peak_half " .. t:peak_meter():meter_level(0, ARDOUR.MeterType.MeterPeak))
close_session()
quit()
