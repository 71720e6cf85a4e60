package portal

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A lang is a language the portal speaks: "en" or "zh".
type lang string

const (
	langEnglish lang = "en"
	langChinese lang = "zh"
)

// langCookie keeps the language a reader chose with the switch.
const langCookie = "govlog_lang"

// langs are the portal's languages, in the order the switch lists them.
var langs = []lang{langChinese, langEnglish}

// parseLang reads a language tag ("zh", "zh-CN", "en-GB", ...) as one of
// the portal's languages.
func parseLang(tag string) (lang, bool) {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch primary {
	case "zh":
		return langChinese, true
	case "en":
		return langEnglish, true
	}
	return "", false
}

// chooseLang picks the reader's language: ?lang= (the switch, which also
// sets the cookie), then the cookie, then the first of Accept-Language's
// languages by weight that the portal speaks, then Chinese, the language
// of the public the logs serve.
func chooseLang(w http.ResponseWriter, r *http.Request) lang {
	if l, ok := parseLang(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	if l, ok := acceptLanguage(r.Header.Get("Accept-Language")); ok {
		return l
	}
	return langChinese
}

// acceptLanguage returns the portal language an Accept-Language header
// weighs highest (RFC 9110, 12.5.4), the earlier one on a tie.
func acceptLanguage(header string) (lang, bool) {
	var best lang
	bestQ := 0.0
	for _, item := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(item, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if l, ok := parseLang(tag); ok && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best, bestQ > 0
}

// A msg is one UI string in both languages. Strings with arguments use
// fmt verbs, in the same order in both.
type msg struct{ en, zh string }

// catalogue holds every UI string of the portal's pages and scripts. A
// test renders every page in both languages and checks that each key the
// templates and scripts use is here, with both languages filled in.
var catalogue = map[string]msg{
	"site.name":    {"govlog public portal", "govlog 公开查询"},
	"site.tagline": {"Every record of these logs is signed by the agency that made it, kept in an append-only log, and cosigned by independent witnesses. Check it yourself.", "这些日志中的每条记录都由发布机关签名，写入只能追加的日志，并由独立见证方联署。您可以亲自核验。"},
	"nav.search":   {"Search", "搜索"},
	"nav.check":    {"Check a document", "核对文件"},
	"nav.funds":    {"Follow the money", "资金追踪"},
	"nav.status":   {"Witnesses and monitors", "见证与监督"},
	"nav.lang":     {"Language", "语言"},
	"nav.skip":     {"Skip to content", "跳到正文"},

	"search.title":         {"Search the logs", "搜索日志"},
	"search.words":         {"Words of the title", "标题中的词"},
	"search.words.hint":    {"e.g. budget, 预算", "例如：预算、budget"},
	"search.log":           {"Log", "日志"},
	"search.log.any":       {"All logs", "全部日志"},
	"search.agency":        {"Agency (ID)", "机关（编号）"},
	"search.type":          {"Statement type", "记录类型"},
	"search.id":            {"Business ID (document, contract, account)", "业务编号（文件、合同、账户）"},
	"search.sha256":        {"Document SHA-256", "文件 SHA-256"},
	"search.from":          {"From (date)", "起始日期"},
	"search.to":            {"To (date)", "截止日期"},
	"search.submit":        {"Search", "搜索"},
	"search.more":          {"More criteria", "更多条件"},
	"search.results":       {"Results", "搜索结果"},
	"search.none":          {"No entry matches.", "没有匹配的记录。"},
	"search.next":          {"Next page", "下一页"},
	"search.pending":       {"pending: not yet in a signed checkpoint", "待定：尚未写入已签名的检查点"},
	"search.error":         {"The search could not be done: %s", "无法完成搜索：%s"},
	"search.needs":         {"Give at least one criterion.", "请至少填写一项条件。"},
	"home.logs":            {"The logs", "日志列表"},
	"home.logs.intro":      {"Each log is also readable by any tlog client as C2SP tlog-tiles below its prefix (checkpoint, tile/<L>/<N>, tile/entries/<N>).", "每个日志也可由任何 tlog 客户端按 C2SP tlog-tiles 格式读取，路径在其前缀之下（checkpoint、tile/<L>/<N>、tile/entries/<N>）。"},
	"home.log.name":        {"Log", "日志"},
	"home.log.origin":      {"Origin", "源标识"},
	"home.log.size":        {"Entries", "记录数"},
	"home.log.tiles":       {"Tiles", "瓦片"},
	"home.api":             {"Machines read the same data as JSON below /api/v1/.", "程序可在 /api/v1/ 下以 JSON 读取相同的数据。"},
	"col.log":              {"Log", "日志"},
	"entry.title":          {"Entry %d of the %s log", "%[2]s 日志第 %[1]d 条记录"},
	"entry.signed":         {"Signed by", "签署方"},
	"entry.signer.key":     {"key %s", "密钥 %s"},
	"entry.signer.none":    {"no signature by a registered agency key", "没有已登记机关密钥的签名"},
	"entry.when":           {"Time stated", "声明时间"},
	"entry.type":           {"Type", "类型"},
	"entry.body":           {"Content", "内容"},
	"entry.signer.note":    {"The log checked this signature against the registry when it admitted the entry, and monitors check it again; your browser checks the proof below.", "日志在受理该记录时已依据登记册核验此签名，监督方会再次核验；您的浏览器核验下方的证明。"},
	"rel.corrects":         {"Corrects", "更正了"},
	"rel.retracts":         {"Retracts", "撤回了"},
	"rel.corrected_by":     {"Corrected by", "已被更正，见"},
	"rel.retracted_by":     {"Retracted by", "已被撤回，见"},
	"entry.leaf":           {"Leaf hash (RFC 6962)", "叶哈希（RFC 6962）"},
	"entry.origin":         {"Log origin", "日志源标识"},
	"entry.bundle.get":     {"Download the proof", "下载证明"},
	"entry.bundle.cli":     {"Check it offline: govlog verify --policy POLICY FILE.tlog-proof (the policy is at /policy)", "离线核验：govlog verify --policy 策略文件 证明文件.tlog-proof（策略文件见 /policy）"},
	"entry.raw":            {"The signed statement, as logged", "已记录的签名声明原文"},
	"entry.pending":        {"This entry is admitted but no signed checkpoint includes it yet; its proof will follow within the log's maximum merge delay.", "该记录已受理，但尚无已签名的检查点包含它；其证明将在日志的最长合并延迟内生成。"},
	"entry.follow":         {"Follow this payment", "追踪这笔款项"},
	"proof.title":          {"Proof", "证明"},
	"proof.noscript":       {"Your browser runs no JavaScript, so the proof is not checked here. Download the proof and check it with govlog verify.", "您的浏览器未运行 JavaScript，因此无法在此核验证明。请下载证明并用 govlog verify 核验。"},
	"proof.checking":       {"Checking the proof in your browser…", "正在浏览器中核验证明……"},
	"proof.verified":       {"Verified", "已验证"},
	"proof.verified.how":   {"Checked in your browser: the log signed a checkpoint of %s entries, %s cosigned it (the policy's quorum is met), and the inclusion proof binds this entry to it.", "已在您的浏览器中核验：日志签署了包含 %s 条记录的检查点，%s 联署了它（满足策略要求的法定数），且包含证明把本记录与该检查点绑定。"},
	"proof.nowitness":      {"no witness (the policy needs none)", "无见证方（策略不要求）"},
	"proof.failed":         {"Not verified", "未通过验证"},
	"proof.fail.bundle":    {"The proof bundle is malformed.", "证明包格式错误。"},
	"proof.fail.policy":    {"The node's witness policy could not be read.", "无法读取本节点的见证策略。"},
	"proof.fail.log":       {"The checkpoint is not validly signed by the log's key.", "检查点没有日志密钥的有效签名。"},
	"proof.fail.quorum":    {"Too few witnesses validly cosigned the checkpoint: the policy's quorum is not met.", "有效联署检查点的见证方不足，未满足策略要求的法定数。"},
	"proof.fail.inclusion": {"The inclusion proof does not bind this entry to the checkpoint's root hash.", "包含证明无法把本记录与检查点的根哈希绑定。"},
	"proof.fail.crypto":    {"This browser cannot check signatures here (WebCrypto needs HTTPS and Ed25519 support).", "此浏览器无法在此核验签名（WebCrypto 需要 HTTPS 且支持 Ed25519）。"},
	"proof.fail.entry":     {"The proof is for another entry than the one shown.", "该证明对应的不是本页显示的记录。"},
	"proof.fail.fetch":     {"The proof or the policy could not be fetched.", "无法获取证明或策略。"},
	"proof.badwitness":     {"Ignored: the cosignature of %s does not verify.", "已忽略：%s 的联署签名无法验证。"},
	"proof.latewitness":    {"Not counted: %s dated its cosignature in the future.", "未计入：%s 的联署时间晚于当前时间。"},
	"proof.policy":         {"Checked against this node's witness policy (%s). For independent assurance, compare its keys with those the witnesses publish.", "依据本节点公布的见证策略（%s）核验。如需独立保证，请将其中的密钥与各见证方公布的密钥比对。"},
	"check.title":          {"Check a document", "核对文件"},
	"check.intro":          {"Pick a file: your browser computes its SHA-256 (the file never leaves your computer) and looks it up in the logs.", "选择一个文件：您的浏览器会计算它的 SHA-256（文件不会离开您的电脑），并在日志中查找。"},
	"check.file":           {"Document file", "文件"},
	"check.hash":           {"Or paste its SHA-256 (64 hex digits)", "或粘贴其 SHA-256（64 位十六进制）"},
	"check.submit":         {"Look it up", "查找"},
	"check.computing":      {"Computing the SHA-256…", "正在计算 SHA-256……"},
	"check.computed":       {"SHA-256 of the file: %s", "文件的 SHA-256：%s"},
	"check.match":          {"Match: this document is in the log.", "匹配：该文件已记录在日志中。"},
	"check.nomatch":        {"No match: no entry of the logs has this SHA-256. The file differs from every logged document, or was never logged.", "不匹配：日志中没有记录这个 SHA-256。该文件与所有已记录的文件都不同，或从未被记录。"},
	"check.nocrypto":       {"This browser cannot hash the file here (WebCrypto needs HTTPS): paste the file's SHA-256 instead.", "此浏览器无法在此计算文件哈希（WebCrypto 需要 HTTPS）：请改为粘贴文件的 SHA-256。"},
	"check.badhash":        {"A SHA-256 is 64 hexadecimal digits.", "SHA-256 应为 64 位十六进制数字。"},
	"funds.title":          {"Follow the money", "资金追踪"},
	"funds.intro":          {"Every account of the funds log has a public ledger; every payment can be traced back to the budget it came from.", "资金日志中的每个账户都有公开流水；每笔付款都可以追溯到其预算来源。"},
	"funds.account":        {"Account ID", "账户编号"},
	"funds.account.show":   {"Show the ledger", "查看流水"},
	"funds.payment":        {"Payment reference (e.g. transfer/<id>) or leaf hash", "付款编号（如 transfer/<编号>）或叶哈希"},
	"funds.payment.show":   {"Trace the payment", "追踪付款"},
	"funds.nolog":          {"This node keeps no funds log.", "本节点没有资金日志。"},
	"funds.ledger":         {"Ledger of %s", "%s 的流水"},
	"funds.balance":        {"Balance", "余额"},
	"funds.in":             {"Total in", "累计流入"},
	"funds.out":            {"Total out", "累计流出"},
	"funds.kind":           {"Kind", "类型"},
	"funds.owner":          {"Owner", "所有者"},
	"funds.controller":     {"Controlled by", "控制机关"},
	"funds.line":           {"Line", "行"},
	"funds.movement":       {"Movement", "款项"},
	"funds.counterparty":   {"Counterparty", "对方账户"},
	"funds.amount":         {"Amount", "金额"},
	"funds.after":          {"Balance after", "变动后余额"},
	"funds.entry":          {"Entry", "记录"},
	"funds.outside":        {"outside the log (allocation)", "日志之外（拨款）"},
	"funds.nextpage":       {"Later lines", "后续流水"},
	"funds.path":           {"Path of %s", "%s 的资金路径"},
	"funds.path.intro":     {"The payment first, then each movement that funded it (first in, first out), deeper levels indented.", "先列出付款本身，再列出为其提供资金的每笔款项（先进先出），层级越深缩进越多。"},
	"funds.from":           {"From", "付款方"},
	"funds.to":             {"To", "收款方"},
	"funds.attributed":     {"Part in this payment", "计入本笔付款的部分"},
	"funds.contract":       {"Contract", "合同"},
	"funds.error":          {"The funds log could not answer: %s", "资金日志无法回答：%s"},
	"status.title":         {"Witnesses and monitors", "见证与监督"},
	"status.intro":         {"Witnesses run by independent institutions cosign each checkpoint only if it extends the one they saw before, so the log cannot show two histories. Monitors replay every log and re-check its rules.", "由独立机构运营的见证方只有在检查点延续了其此前所见内容时才会联署，因此日志无法呈现两套历史。监督方重放每个日志并复核其规则。"},
	"status.policy":        {"Witness policy", "见证策略"},
	"status.witness":       {"Witness", "见证方"},
	"status.key":           {"Key", "密钥"},
	"status.url":           {"Address", "地址"},
	"status.nopolicy":      {"This node publishes its checkpoints without witnesses: they are signed by the log alone.", "本节点发布的检查点没有见证方联署，仅由日志签名。"},
	"status.checkpoints":   {"Latest checkpoints", "最新检查点"},
	"status.size":          {"Entries", "记录数"},
	"status.root":          {"Root hash", "根哈希"},
	"status.cosigned":      {"Cosigned by", "联署方"},
	"status.monitors":      {"Monitors", "监督方"},
	"status.nomonitor":     {"This node knows of no monitor. Anyone can run one: govlog monitor.", "本节点不知道任何监督方。任何人都可以运行：govlog monitor。"},
	"status.policyfile":    {"The policy file", "策略文件"},
	"status.none":          {"none yet", "暂无"},
	"err.badrequest":       {"Bad request: %s", "请求有误：%s"},
	"err.index":            {"an entry's number is a whole number", "记录序号应为整数"},
	"err.notfound":         {"Not found.", "未找到。"},
	"err.unavailable":      {"The node could not answer: %s", "节点无法回答：%s"},
	"footer":               {"govlog: a transparency log for public records. Everything shown here can be checked offline from its proof.", "govlog：公共记录透明日志。此处显示的一切都可凭其证明离线核验。"},
}

// t returns the catalogue's string for key in l, formatted with args. A key
// missing from the catalogue shows as itself between "!" so a test finds it.
func (l lang) t(key string, args ...any) string {
	m, ok := catalogue[key]
	if !ok {
		return "!" + key + "!"
	}
	s := m.en
	if l == langChinese {
		s = m.zh
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// formatTime writes a time for the page: UTC, to the second.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
