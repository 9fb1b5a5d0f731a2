//! The `voxwire` command line: `demo`, `serve`, `play`, `record` and `probe`.
#![forbid(unsafe_code)]

mod demo;
mod signal;
mod sim;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use voxwire::{ConnectionInfo, PlayOptions, Transport, VoiceConfig, VoiceConnection};
use voxwire_crypto::transport::TransportMode;
use voxwire_server::{DaveMode, Server, ServerConfig, TlsConfig};

/// voxwire: Discord voice in Rust.
#[derive(Parser)]
#[command(name = "voxwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// `aead_aes256_gcm_rtpsize`
    Aes,
    /// `aead_xchacha20_poly1305_rtpsize`
    Xchacha,
}

impl Mode {
    fn transport(self) -> TransportMode {
        match self {
            Self::Aes => TransportMode::AeadAes256GcmRtpsize,
            Self::Xchacha => TransportMode::AeadXChaCha20Poly1305Rtpsize,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Dave {
    Required,
    Optional,
    Off,
}

#[derive(Subcommand)]
enum Command {
    /// Start the local voice server, a simulated speaker and a bot that plays music while it
    /// records everyone; then report what happened.
    Demo(demo::DemoArgs),
    /// Run the local Discord-compatible voice server until Ctrl-C.
    Serve {
        /// Address of the gateway and control API.
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: SocketAddr,
        /// Address of the UDP media socket.
        #[arg(long, default_value = "127.0.0.1:0")]
        udp: SocketAddr,
        /// Serve plain ws:// and http:// instead of TLS.
        #[arg(long)]
        plain: bool,
        /// PEM certificate chain (with --key); a CA and certificate are generated otherwise.
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        /// PEM private key.
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
        /// Where to write the CA certificate clients must trust.
        #[arg(long, default_value = "voxwire-ca.pem")]
        ca_out: PathBuf,
        /// End-to-end encryption policy.
        #[arg(long, value_enum, default_value = "required")]
        dave: Dave,
        /// Transport modes offered, in order.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "aes,xchacha")]
        modes: Vec<Mode>,
        /// A simulated participant, `GUILD:CHANNEL:USER:tone:HZ` or `GUILD:CHANNEL:USER:file:PATH`:
        /// a voxwire client that joins through the server and speaks a tone, or plays a file, in a
        /// loop. Repeatable.
        #[arg(long = "speaker")]
        speakers: Vec<String>,
    },
    /// Join a call and play a file (anything `FFmpeg` reads; Opus is passed through).
    Play {
        #[command(flatten)]
        conn: ConnArgs,
        /// The file or URL to play.
        input: String,
        /// Opus bitrate in kbit/s when encoding.
        #[arg(long, default_value_t = 96)]
        bitrate: u32,
    },
    /// Join a call and record every speaker to a WAV file each, plus a mixed WAV.
    Record {
        #[command(flatten)]
        conn: ConnArgs,
        /// Directory for the recordings.
        #[arg(long, default_value = "recordings")]
        out: PathBuf,
        /// How long to record.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// Print what ffprobe says about a file, as JSON.
    Probe {
        /// The file or URL.
        input: String,
    },
}

/// The credentials of a voice connection (from `VOICE_SERVER_UPDATE` and `VOICE_STATE_UPDATE`, or
/// from a voxwire server's `POST /v1/voice/join`).
#[derive(clap::Args)]
struct ConnArgs {
    /// Voice gateway endpoint, `host:port`.
    #[arg(long)]
    endpoint: String,
    /// Voice token.
    #[arg(long)]
    token: String,
    /// Session id.
    #[arg(long)]
    session: String,
    /// Guild id.
    #[arg(long)]
    guild: u64,
    /// Channel id.
    #[arg(long)]
    channel: u64,
    /// Own user id.
    #[arg(long)]
    user: u64,
    /// Trust this PEM CA (a local voxwire server's `voxwire-ca.pem`) instead of the web PKI.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Plain ws:// (a local server started with --plain).
    #[arg(long)]
    plain: bool,
    /// Do not offer DAVE.
    #[arg(long)]
    no_dave: bool,
}

impl ConnArgs {
    fn connect_parts(&self) -> Result<(ConnectionInfo, VoiceConfig), String> {
        let transport = if self.plain {
            Transport::Plain
        } else if let Some(ca) = &self.ca {
            let pem = std::fs::read_to_string(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
            Transport::TlsTrusting(pem.into())
        } else {
            Transport::Tls
        };
        let info = ConnectionInfo {
            endpoint: self.endpoint.clone(),
            token: self.token.clone(),
            session_id: self.session.clone(),
            guild_id: self.guild,
            channel_id: self.channel,
            user_id: self.user,
        };
        Ok((info, VoiceConfig::new().with_transport(transport).with_dave(!self.no_dave)))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("voxwire: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voxwire: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A URL (`scheme://...`) or a file path.
fn input_of(s: &str) -> voxwire_ffmpeg::Input {
    if s.contains("://") {
        voxwire_ffmpeg::Input::Url(s.to_owned())
    } else {
        voxwire_ffmpeg::Input::from(std::path::Path::new(s))
    }
}

#[expect(clippy::too_many_lines, reason = "one arm per subcommand, each a short linear script")]
async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Demo(args) => demo::run(args).await,
        Command::Serve { bind, udp, plain, cert, key, ca_out, dave, modes, speakers } => {
            let tls = match (plain, cert, key) {
                (true, _, _) => TlsConfig::Plain,
                (false, Some(cert), Some(key)) => TlsConfig::Files { cert, key },
                _ => TlsConfig::SelfSigned,
            };
            let dave = match dave {
                Dave::Required => DaveMode::Required,
                Dave::Optional => DaveMode::Optional,
                Dave::Off => DaveMode::Off,
            };
            let config = ServerConfig::new()
                .with_bind(bind)
                .with_udp_bind(udp)
                .with_tls(tls)
                .with_dave(dave)
                .with_modes(modes.iter().map(|m| m.transport()).collect());
            let server = Server::start(config).await.map_err(|e| e.to_string())?;
            println!("voxwire voice server");
            println!("  gateway   {}", server.gateway_addr());
            println!("  media     udp {}", server.udp_addr());
            println!(
                "  control   {}/v1/voice/join  (POST {{guild_id, channel_id, user_id}})",
                server.control_url()
            );
            if let Some(pem) = server.ca_pem() {
                std::fs::write(&ca_out, pem).map_err(|e| format!("{}: {e}", ca_out.display()))?;
                println!(
                    "  CA        {} (trust it: NODE_EXTRA_CA_CERTS, --ca, ...)",
                    ca_out.display()
                );
            }
            let specs =
                speakers.iter().map(|s| sim::Speaker::parse(s)).collect::<Result<Vec<_>, _>>()?;
            let mut tasks = Vec::new();
            for spec in specs {
                println!(
                    "  speaker   user {} in {}/{}: {}",
                    spec.user, spec.guild, spec.channel, spec.what
                );
                tasks.push(tokio::spawn(sim::run(
                    spec,
                    server.handle(),
                    server.ca_pem().map(str::to_owned),
                    dave != DaveMode::Off,
                )));
            }
            println!("Ctrl-C stops it.");
            tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
            server.shutdown().await;
            Ok(())
        }
        Command::Play { conn, input, bitrate } => {
            let (info, config) = conn.connect_parts()?;
            let source = voxwire_sources::ffmpeg::FfmpegOpusSource::from_probe(
                input_of(&input),
                &voxwire_sources::ffmpeg::FfmpegSourceConfig::new()
                    .bitrate(bitrate * 1000)
                    .tools(voxwire_ffmpeg::ToolsConfig::from_env()),
            )
            .map_err(|e| e.to_string())?;
            let voice = VoiceConnection::connect(info, config).await.map_err(|e| e.to_string())?;
            println!("connected; playing {input}");
            let playing = voice
                .play(source, PlayOptions { bitrate_kbps: bitrate, ..PlayOptions::default() })
                .await
                .map_err(|e| e.to_string())?;
            let stats = playing.finished().await.map_err(|e| e.to_string())?;
            println!(
                "played {} frames ({} underruns, {} late ticks, send time mean {:?} max {:?}, interval p95 {:?})",
                stats.frames_sent,
                stats.underruns,
                stats.late_ticks,
                stats.send_time_mean,
                stats.send_time_max,
                stats.interval_p95
            );
            voice.disconnect().await;
            Ok(())
        }
        Command::Record { conn, out, seconds } => {
            let (info, config) = conn.connect_parts()?;
            let voice = VoiceConnection::connect(info, config).await.map_err(|e| e.to_string())?;
            let sink = demo::recorder(&out).map_err(|e| e.to_string())?;
            voice.listen(sink).await.map_err(|e| e.to_string())?;
            println!("recording into {} for {seconds} s", out.display());
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            voice.stop_listening().await.map_err(|e| e.to_string())?;
            let stats = voice.stats().await.map_err(|e| e.to_string())?;
            println!("received {} frames, {} lost", stats.frames_received, stats.frames_lost);
            voice.disconnect().await;
            Ok(())
        }
        Command::Probe { input } => {
            let info =
                voxwire_ffmpeg::probe(&voxwire_ffmpeg::ToolsConfig::from_env(), input_of(&input))
                    .map_err(|e| e.to_string())?;
            println!("{info:#?}");
            Ok(())
        }
    }
}
