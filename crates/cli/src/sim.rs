//! Simulated participants for `voxwire serve --speaker`: each is a voxwire client that joins
//! through the server's own control logic and speaks in a loop, so every byte it sends is the
//! real protocol (transport encryption and DAVE included).

use std::path::PathBuf;
use std::time::Duration;

use voxwire::{ConnectionInfo, PlayOptions, Transport, VoiceConfig, VoiceConnection};
use voxwire_server::ServerHandle;
use voxwire_sources::{MediaSource, PcmFrames};

/// What a simulated participant plays.
pub(crate) enum Sound {
    Tone(f64),
    File(PathBuf),
}

pub(crate) struct Speaker {
    pub(crate) guild: u64,
    pub(crate) channel: u64,
    pub(crate) user: u64,
    pub(crate) what: String,
    sound: Sound,
}

impl Speaker {
    /// Parses `GUILD:CHANNEL:USER:tone:HZ` or `GUILD:CHANNEL:USER:file:PATH`.
    pub(crate) fn parse(spec: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "--speaker {spec}: expected GUILD:CHANNEL:USER:tone:HZ or GUILD:CHANNEL:USER:file:PATH"
            )
        };
        let mut parts = spec.splitn(5, ':');
        let mut id = || parts.next().and_then(|p| p.parse::<u64>().ok()).ok_or_else(bad);
        let (guild, channel, user) = (id()?, id()?, id()?);
        let kind = parts.next().ok_or_else(bad)?;
        let arg = parts.next().ok_or_else(bad)?;
        let sound = match kind {
            "tone" => Sound::Tone(
                arg.parse().ok().filter(|f: &f64| (20.0..20_000.0).contains(f)).ok_or_else(bad)?,
            ),
            "file" => Sound::File(PathBuf::from(arg)),
            _ => return Err(bad()),
        };
        Ok(Self { guild, channel, user, what: format!("{kind} {arg}"), sound })
    }

    #[expect(clippy::cast_precision_loss, reason = "sample index to seconds")]
    fn source(&self) -> Result<Box<dyn MediaSource>, String> {
        match &self.sound {
            Sound::Tone(hz) => {
                let hz = *hz;
                // Ten seconds of tone; the loop in `run` repeats it.
                let frames: Vec<Vec<i16>> = (0..500usize)
                    .map(|f| {
                        (0..960usize)
                            .flat_map(|i| {
                                let t = (f * 960 + i) as f64 / 48_000.0;
                                let v = ((std::f64::consts::TAU * hz * t).sin() * 10_000.0) as i16;
                                [v, v]
                            })
                            .collect()
                    })
                    .collect();
                Ok(Box::new(PcmFrames::new(frames)))
            }
            Sound::File(path) => voxwire_sources::ffmpeg::FfmpegOpusSource::from_probe(
                path.as_path(),
                &voxwire_sources::ffmpeg::FfmpegSourceConfig::new()
                    .tools(voxwire_ffmpeg::ToolsConfig::from_env()),
            )
            .map(|s| Box::new(s) as Box<dyn MediaSource>)
            .map_err(|e| e.to_string()),
        }
    }
}

/// Joins and plays in a loop until the server stops; errors are printed and retried.
pub(crate) async fn run(spec: Speaker, server: ServerHandle, ca_pem: Option<String>, dave: bool) {
    let transport = ca_pem.map_or(Transport::Plain, |pem| Transport::TlsTrusting(pem.into()));
    let config = VoiceConfig::new().with_transport(transport).with_dave(dave);
    loop {
        if let Err(e) = speak(&spec, &server, &config).await {
            eprintln!("speaker {}: {e}; retrying in 2 s", spec.user);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn speak(spec: &Speaker, server: &ServerHandle, config: &VoiceConfig) -> Result<(), String> {
    let j = server.join(spec.guild, spec.channel, spec.user).await.map_err(|e| e.to_string())?;
    let info = ConnectionInfo {
        endpoint: j.endpoint,
        token: j.token,
        session_id: j.session_id,
        guild_id: spec.guild,
        channel_id: spec.channel,
        user_id: spec.user,
    };
    let conn = VoiceConnection::connect(info, config.clone()).await.map_err(|e| e.to_string())?;
    loop {
        let playing =
            conn.play(spec.source()?, PlayOptions::default()).await.map_err(|e| e.to_string())?;
        playing.finished().await.map_err(|e| e.to_string())?;
    }
}
