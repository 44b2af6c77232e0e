"""The command line's help in Japanese, keyed by the English text the commands are
written with (part of the message catalogue, see words.py); argparse's own words too."""

from __future__ import annotations

HELP_JA: dict[str, str] = {
    "Public Wi-Fi, watch-over and smart facilities for a city.":
        "まちの公衆Wi-Fi・見守り・スマート施設を支えます。",
    "show this help message and exit": "このヘルプを表示して終了します",
    "show program's version number and exit": "版を表示して終了します",
    "language of the output (default: the locale)": "表示の言語（既定: ロケールに従う）",
    "how much the log says (default: info)": "ログの詳しさ（既定: info）",
    "build and check signed agent releases (IT)":
        "署名付きのエージェントのリリースを作成・検査します（情報システム担当）",
    "wheels of the agent and its dependencies for the Pi's machines, with a "
    "manifest signed by the city's release key":
        "ラズベリーパイ向けにエージェントと依存パッケージの wheel を集め、"
        "市のリリース鍵で署名した目録を付けます",
    "provisioning's state directory (holds the release key)":
        "プロビジョニングの状態ディレクトリ（リリース鍵の置き場所）",
    "the release directory to serve (a web server's or a path)":
        "公開するリリースのディレクトリ（ウェブサーバーのものか、パス）",
    "repeatable; default: aarch64 and armv7l": "繰り返し可。既定: aarch64 と armv7l",
    "build as this version (default: the project's)":
        "この版として作ります（既定: プロジェクトの版）",
    "another package index, e.g. https://www.piwheels.org/simple for armv7l":
        "追加のパッケージの置き場。例: armv7l 向けに https://www.piwheels.org/simple",
    "check a built release's signature and hashes": "作成したリリースの署名とハッシュを検査します",
    "OUT/VERSION": "OUT/版",
    "the city's release-key.pub": "市のリリース公開鍵 release-key.pub",
    "where devices fetch signed releases (https://…/releases); "
    "default: only a release the bundle carries":
        "機器が署名付きリリースを取りに行く場所（https://…/releases）。"
        "既定: バンドルに入れたリリースだけ",
    "a broker without an MQTT settings file (with --port)":
        "MQTT の設定ファイルを使わずにブローカーを指定します（--port と共に）",
    "with --host": "--host と共に",
    "a release built with `civic-iot release build`":
        "`civic-iot release build` で作ったリリースの版",
    "go on after a pause": "一時停止から再開します",
    "its ID (default: the latest)": "ロールアウトの ID（既定: 最新）",
    "pause past this share of failed devices (default 10%%)":
        "失敗した機器の割合がこれを超えたら一時停止します（既定 10%%）",
    "per wave: done, failed, pending": "段階ごとの完了・失敗・未完了",
    "send no further waves": "次の段階に進みません",
    "staged rollouts of an agent release": "エージェントのリリースを段階的に配布します",
    "start a rollout: a canary, then waves": "配布を始めます: まずカナリア、次に段階ごと",
    "stop; devices not yet updated are no longer asked to":
        "中止します。まだ更新していない機器には更新を求めません",
    "the first wave (default 5%%)": "最初の段階（カナリア、既定 5%%）",
    "the next waves, cumulative (default 25%%,100%%)": "続く段階、累積の割合（既定 25%%,100%%）",
    "the release directory devices fetch from (default: rollouts.source in the gateway's config)":
        "機器がリリースを取りに行く場所（既定: ゲートウェイ設定の rollouts.source）",
    "which devices, e.g. kind:home, district:潮見, tag:pilot (default: all)":
        "対象の機器。例: kind:home、district:潮見、tag:pilot（既定: all）",
    "a device's recent log, personal data taken out": "機器の最近のログ（個人情報は除きます）",
    "minutes back (default 60)": "何分前から（既定 60）",
    "a device's diagnostics: versions, broker, collectors, what fails, outbox, release, recent log":
        "機器の診断情報: 版、ブローカー、収集器、失敗"
        "中のもの、アウトボックス、リリース、最近のログ",
    "back up the servers' state into one archive":
        "サーバーの状態を一つのアーカイブにバックアップします",
    "the archive (.tar.gz, 0600)": "アーカイブ（.tar.gz、0600）",
    "put a backup back, into the directories the configs name":
        "バックアップを、設定ファイルが示すディレクトリに戻します",
    "write into directories that already hold files": "ファイルのあるディレクトリにも書き込みます",
    "the alerts service's config": "通知サービスの設定ファイル",
    "provisioning's state directory": "プロビジョニングの状態ディレクトリ",
    "the city's release directory": "市のリリースのディレクトリ",
    "firmware-config, for --group": "--group に使う firmware-config",
    "a table of a group instead, e.g. kind:home": "代わりにグループを表で。例: kind:home",
    "the device (or --group) and the YAML with the remote part: collectors":
        "機器（または --group）と、遠隔で変える部分（collectors）の YAML",
    "every device of a group, e.g. profile:wifi-probe":
        "グループのすべての機器。例: profile:wifi-probe",
    "skip building releases and rolling one out to the homes":
        "リリースの作成と、家庭への配布の実演を省きます",
    "the device (or --group) and the command: ping, collect-now, get-config, restart-agent, "
    "logs, diag":
        "機器（または --group）とコマンド: "
        "ping、collect-now、get-config、restart-agent、logs、diag",
    "take the dependency wheels of an earlier release instead of downloading (a patch built "
    "offline)":
        "依存パッケージの wheel をダウンロードせず、以前"
        "のリリースのものを使います（オフラインでのパッチ作成）",
    "the agent on a Raspberry Pi": "ラズベリーパイで動くエージェント",
    "MQTT to InfluxDB ingest": "MQTT から InfluxDB への取り込み（ゲートウェイ）",
    "the device registry: state, last seen, versions, health, gaps":
        "機器台帳: 状態、最終受信、版、健康状態、欠番",
    "watch-over and facility alerts": "見守りと施設の通知",
    "open data and usage reports": "オープンデータと利用状況の報告書",
    "Grafana dashboards": "Grafana ダッシュボード",
    "sites and devices": "拠点と機器",
    "the residents file (personal data)": "入居者ファイル（個人情報）",
    "render broker config, credentials, certificates and device bundles":
        "ブローカー設定、認証情報、証明書、機器用バンドルを作成します",
    "look at and steer devices over MQTT (IT)": "MQTT で機器を確認・操作します（情報システム担当）",
    "a local stack with the example city's devices": "例の市の機器でローカルに全体を動かします",
    "run the agent until SIGTERM or Ctrl-C": "エージェントを動かします（SIGTERM か Ctrl-C まで）",
    "validate an agent config and exit": "エージェントの設定を検査して終了します",
    "read every collector once and print the readings": "すべての収集器を一度読み、値を表示します",
    "JSON file naming hardware stand-ins (recorded BLE, mock GPIO, recorded Wi-Fi) for "
    "demos and tests on a machine without that hardware":
        "ハードウェアの代役（記録した BLE、模擬 GPIO、記録した Wi-Fi）を指定する JSON"
        "（その機器がない環境でのデモと試験用）",
    "as for 'edge run'": "'edge run' と同じ",
    "run the gateway until SIGTERM or Ctrl-C": "ゲートウェイを動かします（SIGTERM か Ctrl-C まで）",
    "create databases/buckets, retention and hourly roll-ups (idempotent)":
        "データベース／バケット、保存期間、1時間集計を作成します（何度実行しても同じ）",
    "print the InfluxDB schema as a Markdown table":
        "InfluxDB のスキーマを Markdown の表で表示します",
    "the gateway's config file": "ゲートウェイの設定ファイル",
    "a registry file (registry.sqlite3)": "台帳ファイル（registry.sqlite3）",
    "only this site": "この拠点だけ",
    "only devices in this state": "この状態の機器だけ",
    "as the global --lang": "全体の --lang と同じ",
    "the records as JSON": "記録を JSON で出力します",
    "run the alerts service until SIGTERM or Ctrl-C":
        "通知サービスを動かします（SIGTERM か Ctrl-C まで）",
    "open alerts (all with --all)": "対応が終わっていない通知（--all ですべて）",
    "acknowledge an alert (stops its escalation)": "通知に対応します（以後の連絡を止めます）",
    "a resident is away: no inactivity alerts until then":
        "入居者の外出・不在: その時刻まで「動きがない」通知をしません",
    "no notifications for a site/rule for a while": "拠点／ルールの通知をしばらく止めます",
    "run a recorded stream through the rules on virtual time; write what would have been "
    "delivered (sends nothing, needs no broker)":
        "記録したデータを仮想時刻でルールに通し、届くはずだった通知を書き出します"
        "（何も送らず、ブローカーも不要）",
    "validate and list the rules in force": "有効なルールを検査して一覧にします",
    "who takes care of it": "対応する人",
    "local time, 'YYYY-MM-DD HH:MM'": "現地時刻 'YYYY-MM-DD HH:MM'",
    "the resident is back": "入居者が戻りました",
    "all sites when left out": "省略するとすべての拠点",
    "all rules when left out": "省略するとすべてのルール",
    "local time, default now": "現地時刻（既定: 今）",
    "an alerts run config": "通知サービスの設定ファイル",
    "STREAM.jsonl": "記録データ STREAM.jsonl",
    "a gateway config: rebuild the stream from InfluxDB":
        "ゲートウェイの設定: InfluxDB からデータを組み立て直します",
    "with --influx-config: the site to replay": "--influx-config と共に: 再生する拠点",
    "with --influx-config: first day (local)": "--influx-config と共に: 最初の日（現地）",
    "with --influx-config: last day (local)": "--influx-config と共に: 最後の日（現地）",
    "NOTIFICATIONS.jsonl": "通知の書き出し先 NOTIFICATIONS.jsonl",
    "keep the state here (default: temporary)": "状態の保存先（既定: 一時ディレクトリ）",
    "virtual tick (default 60)": "仮想時刻の刻み（秒、既定 60）",
    "the public Wi-Fi access point list (公衆無線LANアクセスポイント一覧)":
        "公衆無線LANアクセスポイント一覧（オープンデータ）",
    "users per facility per day and month (CSV, a PNG chart and a PDF report)":
        "施設ごと・日ごと・月ごとの利用者数（CSV、PNG のグラフ、PDF の報告書）",
    "start the CSV with a UTF-8 BOM, so Excel on Japanese Windows reads it (default; "
    "--no-bom for tools that do not want one)":
        "CSV の先頭に UTF-8 の BOM を付けます（日本語版 Windows の Excel で文字化けしないよう"
        "既定で付けます。不要なら --no-bom）",
    "the gateway's config": "ゲートウェイの設定ファイル",
    "first day, YYYY-MM-DD": "最初の日 YYYY-MM-DD",
    "day after the last, YYYY-MM-DD": "最後の日の翌日 YYYY-MM-DD",
    "directory for the CSV files": "CSV などの書き出し先ディレクトリ",
    "write dashboards/generated/ from the code (commit the result)":
        "コードから dashboards/generated/ を作ります（結果をコミットしてください）",
    "put the dashboards into a Grafana: through its API (--grafana) with folders, teams and "
    "folder permissions, or as provisioning files (--files)":
        "ダッシュボードを Grafana に入れます: API 経由（--grafana、フォルダ・チーム・権限つき）"
        "またはプロビジョニングファイル（--files）",
    "a Grafana to provision through its API": "API で設定する Grafana の URL",
    "a directory to fill with provisioning files": "プロビジョニングファイルの書き出し先",
    "file holding a Grafana service-account token (or set GRAFANA_TOKEN)":
        "Grafana サービスアカウントのトークンを入れたファイル（または GRAFANA_TOKEN）",
    "InfluxDB as Grafana reaches it": "Grafana から見た InfluxDB の URL",
    "InfluxDB user for Grafana (read only)": "Grafana 用の InfluxDB ユーザー（読み取り専用）",
    "validate firmware-config and list its devices": "firmware-config を検査し、機器を一覧にします",
    "validate the residents file against firmware-config":
        "入居者ファイルを firmware-config と突き合わせて検査します",
    "the alerts service's config: check every step against the channels it has (without it: "
    "against any way of reaching a contact)":
        "通知サービスの設定: 連絡の各段階が、設定された手段で誰かに届くか検査します"
        "（省略時: 連絡先に何らかの連絡手段があるか）",
    "Writes everything under --state-dir (secrets 0600); safe to run again.":
        "すべてを --state-dir の下に書きます（秘密は 0600）。何度実行しても安全です。",
    "override city.yaml broker.host": "city.yaml の broker.host の代わりに使う値",
    "override city.yaml broker.port": "city.yaml の broker.port の代わりに使う値",
    "override city.yaml broker.local_port": "city.yaml の broker.local_port の代わりに使う値",
    "bind the TLS listener here": "TLS の待ち受けアドレス",
    "where the broker's files will live on its host": "ブローカーのホスト上でのファイルの置き場所",
    "the broker's Unix user": "ブローカーを動かす Unix ユーザー",
    "new password, key and certificate for a device": "機器のパスワード・鍵・証明書を新しくします",
    "take a device out of service for good": "機器を完全に運用から外します",
    "MQTT settings file (JSON/YAML), e.g. the provisioned services/it-console/mqtt.json":
        "MQTT の設定ファイル（JSON/YAML）。例: 作成済みの services/it-console/mqtt.json",
    "status, versions, health, desired vs reported config":
        "状態、版、健康状態、設定の指示と報告の差",
    "set a device's desired config and wait": "機器の設定を指示し、反映を待ちます",
    "send a command and print the response": "コマンドを送り、応答を表示します",
    "YAML with the remote part: collectors": "遠隔で変える部分（collectors）の YAML",
    "default: the current desired version + 1": "既定: 今の指示の版 + 1",
    "ping, collect-now, get-config, restart-agent": "ping、collect-now、get-config、restart-agent",
    "KEY=VALUE, repeatable": "KEY=VALUE（繰り返し可）",
    "seconds between readings": "読み取りの間隔（秒）",
    "stop after N s (0: Ctrl-C)": "N 秒で止めます（0: Ctrl-C まで）",
    "seconds a home's Internet is cut": "家庭のインターネットを切る秒数",
}  # fmt: skip

# argparse's own words (it looks them up through gettext, which has no Japanese for it).
ARGPARSE_JA: dict[str, str] = {
    "usage: ": "使い方: ",
    "positional arguments": "引数",
    "options": "オプション",
    "commands": "コマンド",
    "%(prog)s: error: %(message)s\n": "%(prog)s: エラー: %(message)s\n",
    "the following arguments are required: %s": "次の引数が必要です: %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "選べない値です: %(value)r（選べるもの: %(choices)s）",
    "unrecognized arguments: %s": "知らない引数です: %s",
    "expected one argument": "値が一つ必要です",
    "argument %(argument_name)s: %(message)s": "引数 %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "%(type)s として読めない値です: %(value)r",
    "not allowed with argument %s": "引数 %s とは一緒に使えません",
    "one of the arguments %s is required": "次の引数のどれかが必要です: %s",
    "ambiguous option: %(option)s could match %(matches)s":
        "あいまいなオプションです: %(option)s は %(matches)s のどれにも当てはまります",
}  # fmt: skip
