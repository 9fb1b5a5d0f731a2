// A third-party Discord voice peer built on @discordjs/voice, driven against a voxwire server.
//
//   node peer.mjs --control http(s)://127.0.0.1:PORT --guild G --channel C --user U
//                 [--role speak|listen] [--freq HZ] [--seconds S] [--from USER] [--dave on|off]
//
// speak:  joins and plays a sine tone of --freq Hz for --seconds, then prints a JSON summary.
// listen: joins, records the Opus packets of user --from until they stop for 1.5 s (or for
//         --seconds at most), decodes them, and prints a JSON summary with the dominant frequency
//         and the number of packets.
// The voice connection is created through a custom adapter: the server's control API stands in
// for Discord's main gateway (VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE).
import { Readable } from "node:stream";
import {
  joinVoiceChannel, createAudioPlayer, createAudioResource, StreamType, AudioPlayerStatus,
  VoiceConnectionStatus, EndBehaviorType, entersState,
} from "@discordjs/voice";
import OpusScript from "opusscript";

function parseArgs(argv) {
  const out = { role: "listen", freq: 440, seconds: 3, dave: "on" };
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const k of ["control", "guild", "channel", "user"]) {
    if (!out[k]) throw new Error(`missing --${k}`);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const log = (...m) => console.error(`[peer ${args.user}]`, ...m);

async function join() {
  const res = await fetch(`${args.control}/v1/voice/join`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ guild_id: args.guild, channel_id: args.channel, user_id: args.user }),
  });
  if (!res.ok) throw new Error(`join failed: ${res.status} ${await res.text()}`);
  return res.json();
}

function adapterFor(info) {
  return (methods) => ({
    sendPayload(payload) {
      // Main gateway op 4: answer as Discord would, with both dispatches.
      if (payload.op === 4 && payload.d.channel_id) {
        setImmediate(() => {
          methods.onVoiceStateUpdate({
            guild_id: info.guild_id, channel_id: info.channel_id, user_id: info.user_id,
            session_id: info.session_id, deaf: false, mute: false, self_deaf: false,
            self_mute: false, self_video: false, suppress: false, request_to_speak_timestamp: null,
          });
          methods.onVoiceServerUpdate({ token: info.token, guild_id: info.guild_id, endpoint: info.endpoint });
        });
      }
      return true;
    },
    destroy() {},
  });
}

function sinePcm(freq, seconds) {
  const rate = 48000, frames = Math.round(rate * seconds);
  const buf = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * freq * i) / rate) * 12000);
    buf.writeInt16LE(v, i * 4);
    buf.writeInt16LE(v, i * 4 + 2);
  }
  return buf;
}

// Dominant frequency of mono samples by counting rising zero crossings.
function dominantFrequency(samples, rate) {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1] < 0 && samples[i] >= 0) crossings++;
  return (crossings * rate) / samples.length;
}

async function main() {
  const info = await join();
  log("joined", info.endpoint);
  const connection = joinVoiceChannel({
    channelId: info.channel_id, guildId: info.guild_id, selfDeaf: false, selfMute: false,
    adapterCreator: adapterFor(info), daveEncryption: args.dave !== "off", debug: !!process.env.PEER_DEBUG,
  });
  connection.on("error", (e) => log("error", e));
  if (process.env.PEER_DEBUG) connection.on("debug", (m) => log("debug", m));
  await entersState(connection, VoiceConnectionStatus.Ready, 20_000);
  const net = connection.state.networking?.state;
  const summary = { role: args.role, user: args.user, mode: net?.connectionData?.encryptionMode ?? null };
  log("ready", summary.mode);

  if (args.role === "speak") {
    // With DAVE, frames sent before the MLS group exists cannot be decrypted by anyone: wait
    // until this member's DAVE session is ready (the group is formed) before playing.
    if (args.dave !== "off") {
      const deadline = Date.now() + 15_000;
      while (!connection.state.networking?.state?.dave?.session?.ready) {
        if (Date.now() > deadline) throw new Error("DAVE session never became ready");
        await new Promise((r) => setTimeout(r, 50));
      }
      summary.dave_wait_ms = 15_000 - (deadline - Date.now());
      // Let the other member process the same commit or welcome.
      await new Promise((r) => setTimeout(r, 300));
    }
    const player = createAudioPlayer();
    connection.subscribe(player);
    const pcm = sinePcm(Number(args.freq), Number(args.seconds));
    player.play(createAudioResource(Readable.from([pcm]), { inputType: StreamType.Raw }));
    await entersState(player, AudioPlayerStatus.Playing, 10_000);
    await entersState(player, AudioPlayerStatus.Idle, (Number(args.seconds) + 15) * 1000);
    summary.sent_seconds = Number(args.seconds);
    // Give the last packets time to leave before tearing down.
    await new Promise((r) => setTimeout(r, 500));
  } else {
    const decoder = new OpusScript(48000, 2, OpusScript.Application.AUDIO);
    const pcm = [];
    let packets = 0;
    let lastPacket = 0;
    const stream = connection.receiver.subscribe(args.from, { end: { behavior: EndBehaviorType.Manual } });
    stream.on("data", (opus) => {
      packets++;
      lastPacket = Date.now();
      try {
        const out = decoder.decode(opus);
        for (let i = 0; i + 3 < out.length; i += 4) pcm.push(out.readInt16LE(i));
      } catch (e) {
        log("decode error", e.message);
      }
    });
    // Listen until audio came and then stopped for 1.5 s, or --seconds at most.
    const deadline = Date.now() + Number(args.seconds) * 1000;
    while (Date.now() < deadline && !(packets > 0 && Date.now() - lastPacket > 1500)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    stream.destroy();
    // Measure only the voiced part: skip leading and trailing silence.
    let start = pcm.findIndex((s) => Math.abs(s) > 2000);
    if (start < 0) start = pcm.length;
    let end = pcm.length;
    while (end > start && Math.abs(pcm[end - 1]) <= 2000) end--;
    const voiced = pcm.slice(start, end);
    summary.packets = packets;
    summary.decoded_samples = pcm.length;
    summary.freq = voiced.length ? dominantFrequency(voiced, 48000) : 0;
    summary.rms = voiced.length ? Math.sqrt(voiced.reduce((a, s) => a + s * s, 0) / voiced.length) : 0;
  }
  console.log(JSON.stringify(summary));
  connection.destroy();
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
