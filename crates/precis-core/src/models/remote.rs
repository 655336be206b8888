//! The remote engine as the user sets it up (the window's Settings, the CLI's `--remote`
//! flags): one type for both, generated into the UI's bindings, turned into the engine's
//! [`RemoteConfig`] with the key, which is stored apart (never in these settings).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::remote::RemoteConfig;
use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSettings {
    /// The API's base address, e.g. `http://127.0.0.1:8080/v1`.
    pub endpoint: String,
    /// The model name the server knows.
    pub model: String,
    #[serde(default = "RemoteSettings::default_concurrent")]
    pub max_concurrent: u32,
    #[serde(default = "RemoteSettings::default_timeout")]
    pub timeout_secs: u32,
    #[serde(default = "RemoteSettings::default_context")]
    pub context_length: u32,
}

impl RemoteSettings {
    pub const DEFAULT_CONCURRENT: u32 = 1;
    pub const DEFAULT_TIMEOUT_SECS: u32 = 120;
    pub const DEFAULT_CONTEXT: u32 = 4096;

    fn default_concurrent() -> u32 {
        Self::DEFAULT_CONCURRENT
    }
    fn default_timeout() -> u32 {
        Self::DEFAULT_TIMEOUT_SECS
    }
    fn default_context() -> u32 {
        Self::DEFAULT_CONTEXT
    }

    /// The engine's configuration with `api_key`; refuses settings that cannot work.
    pub fn config(&self, api_key: Option<String>) -> Result<RemoteConfig> {
        let mut config = RemoteConfig::new(self.endpoint.trim(), self.model.trim());
        config.api_key = api_key;
        config.max_concurrent = self.max_concurrent as usize;
        config.timeout = std::time::Duration::from_secs(u64::from(self.timeout_secs.max(1)));
        config.context_length = self.context_length as usize;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_a_checked_configuration() {
        let json = r#"{"endpoint":" http://127.0.0.1:11434/v1 ","model":"qwen2.5:1.5b"}"#;
        let settings: RemoteSettings = serde_json::from_str(json).unwrap();
        assert_eq!(settings.max_concurrent, RemoteSettings::DEFAULT_CONCURRENT);
        let config = settings.config(Some("k".into())).unwrap();
        assert_eq!(
            config.chat_url(),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(config.api_key.as_deref(), Some("k"));
        let wrong = RemoteSettings {
            endpoint: "localhost:11434".into(),
            ..settings
        };
        let err = wrong.config(None).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::RemoteUnreachable);
        assert!(
            err.to_string().contains("http://127.0.0.1:8080/v1"),
            "{err}"
        );
    }
}
