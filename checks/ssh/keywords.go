package ssh

import "strings"

// argKind says how the parser reads a keyword's arguments.
type argKind int

// Argument kinds. Keywords the checks evaluate have exact kinds (and are compared with
// `sshd -T` in the validation test); the others are read with the generic kinds, which
// enforce the argument count but not the value.
const (
	kAny0        argKind = iota // any number of arguments, unchecked
	kAny1                       // one or more arguments, unchecked
	kOne                        // exactly one non-empty argument, unchecked
	kFlag                       // yes | no
	kMulti                      // one of a case-insensitive table
	kTunnel                     // PermitTunnel's case-sensitive table
	kInt                        // integer 0..INT_MAX
	kTime                       // sshd time value
	kLogLevel                   // QUIET … DEBUG3
	kUserEnv                    // PermitUserEnvironment: yes | no | pattern list
	kMaxStartups                // start:rate:full
	kPort                       // port number or service name, accumulates
	kHostKey                    // file name, accumulates
	kFileList                   // one file name per line, accumulates
	kCiphers                    // cipher list
	kMACs                       // MAC list
	kKex                        // key exchange list
	kKeyAlgs                    // public key algorithm list
	kUsers                      // AllowUsers / DenyUsers patterns, accumulate
	kGroups                     // AllowGroups / DenyGroups patterns, accumulate
	kAcceptEnv                  // AcceptEnv names, accumulate
	kSubsystem                  // name command [args]
	kListen                     // ListenAddress addr [rdomain name]
	kInclude                    // Include globs
	kMatch                      // Match criteria
	kIgnored                    // deprecated / unsupported / ignored: anything goes
)

// keyword describes one sshd_config keyword.
type keyword struct {
	// name is the canonical name, as `sshd -T` prints it.
	name string
	kind argKind
	// match: the keyword is allowed after Match (SSHCFG_MATCH).
	match bool
	// copied: a Match block's value overrides the global one (copy_set_server_options).
	copied bool
	// states is the value table of kMulti keywords: input (lower-case) → printed value.
	states map[string]string
	// since is the first release that knows the keyword.
	since [2]int
}

// Value tables of the multi-state keywords (servconf.c multistate_*), input → printed form.
var (
	statesRootLogin = map[string]string{
		"without-password": "without-password", "prohibit-password": "without-password",
		"forced-commands-only": "forced-commands-only", "yes": "yes", "no": "no",
	}
	statesGateway   = map[string]string{"clientspecified": "clientspecified", "yes": "yes", "no": "no"}
	statesTCPFwd    = map[string]string{"yes": "yes", "all": "yes", "no": "no", "remote": "remote", "local": "local"}
	statesRhosts    = map[string]string{"yes": "yes", "no": "no", "shosts-only": "shosts-only"}
	statesCompress  = map[string]string{"yes": "yes", "delayed": "yes", "no": "no"}
	statesAddrFam   = map[string]string{"inet": "inet", "inet6": "inet6", "any": "any"}
	statesLogLevels = map[string]string{
		"quiet": "SILENT", "silent": "SILENT", "fatal": "FATAL", "error": "ERROR", "info": "INFO", "verbose": "VERBOSE",
		"debug": "DEBUG", "debug1": "DEBUG", "debug2": "DEBUG2", "debug3": "DEBUG3",
	}
	statesTunnel = map[string]string{"no": "no", "point-to-point": "point-to-point", "ethernet": "ethernet", "yes": "yes"}
)

// keywordTable lists sshd_config(5) keywords of OpenSSH 7.4 to 10.0 with Debian's and
// Red Hat's additions (servconf.c keywords[]). Aliases map to their canonical name.
func keywordTable() map[string]keyword {
	t := map[string]keyword{}
	// add registers keywords; when k.name is set the names are aliases of it.
	add := func(names string, k keyword) {
		preset := k.name
		for _, n := range strings.Split(names, ",") {
			k.name = preset
			if k.name == "" {
				k.name = n
			}
			t[n] = k
		}
	}
	since := func(major, minor int, k keyword) keyword {
		k.since = [2]int{major, minor}
		return k
	}
	all := func(kind argKind, copied bool) keyword { return keyword{kind: kind, match: true, copied: copied} }
	global := func(kind argKind) keyword { return keyword{kind: kind} }
	multi := func(states map[string]string, match bool) keyword {
		return keyword{kind: kMulti, match: match, copied: match, states: states}
	}

	// Evaluated by the checks; exact semantics.
	add("port", global(kPort))
	add("hostkey,hostdsakey", keyword{name: "hostkey", kind: kHostKey})
	add("hostcertificate", global(kFileList))
	add("logingracetime", global(kTime))
	add("permitrootlogin", multi(statesRootLogin, true))
	add("loglevel", all(kLogLevel, true))
	add("hostbasedauthentication", all(kFlag, true))
	add("hostkeyalgorithms", global(kKeyAlgs))
	add("pubkeyacceptedalgorithms,pubkeyacceptedkeytypes", keyword{name: "pubkeyacceptedalgorithms", kind: kKeyAlgs, match: true, copied: true})
	add("passwordauthentication", all(kFlag, true))
	add("kbdinteractiveauthentication,challengeresponseauthentication,skeyauthentication",
		keyword{name: "kbdinteractiveauthentication", kind: kFlag, match: true, copied: true})
	add("ignorerhosts", multi(statesRhosts, true))
	add("x11forwarding", all(kFlag, true))
	add("permitemptypasswords", all(kFlag, true))
	add("permituserenvironment", global(kUserEnv))
	add("allowtcpforwarding", multi(statesTCPFwd, true))
	add("allowagentforwarding", all(kFlag, true))
	add("allowusers", all(kUsers, true))
	add("denyusers", all(kUsers, true))
	add("allowgroups", all(kGroups, true))
	add("denygroups", all(kGroups, true))
	add("ciphers", global(kCiphers))
	add("macs", global(kMACs))
	add("kexalgorithms", global(kKex))
	add("gatewayports", multi(statesGateway, true))
	add("maxstartups", global(kMaxStartups))
	add("maxauthtries", all(kInt, true))
	add("maxsessions", all(kInt, true))
	add("clientaliveinterval", all(kTime, true))
	add("clientalivecountmax", all(kInt, true))
	add("permittunnel", all(kTunnel, true))
	add("disableforwarding", all(kFlag, true))
	add("usepam", global(kFlag))
	add("include", since(8, 2, keyword{kind: kInclude, match: true}))
	add("match", keyword{name: "match", kind: kMatch, match: true})

	// Read for their syntax only.
	add("hostkeyagent,pidfile,modulifile,xauthlocation,securitykeyprovider,syslogfacility,fingerprinthash,persourcemaxstartups,persourcenetblocksize",
		global(kOne))
	add("addressfamily", multi(statesAddrFam, false))
	add("compression", multi(statesCompress, false))
	add("listenaddress", global(kListen))
	add("subsystem", global(kSubsystem))
	add("printmotd,printlastlog,ignoreuserknownhosts,strictmodes,tcpkeepalive,keepalive,usedns,gssapicleanupcredentials,gssapistrictacceptorcheck,gssapikeyexchange,gssapistorecredentialsonrekey,kerberosorlocalpasswd,kerberosticketcleanup,kerberosgetafstoken,debianbanner",
		global(kFlag))
	add("pubkeyauthentication,hostbasedusesnamefrompacketonly,kerberosauthentication,gssapiauthentication,permittty,permituserrc,exposeauthinfo,x11uselocalhost,streamlocalbindunlink",
		all(kFlag, true))
	add("allowstreamlocalforwarding", multi(statesTCPFwd, true))
	add("x11displayoffset", all(kInt, true))
	add("requiredrsasize", since(9, 1, all(kInt, true)))
	add("unusedconnectiontimeout", since(9, 2, all(kOne, true)))
	add("channeltimeout", since(9, 2, all(kAny1, true)))
	add("persourcepenalties,persourcepenaltyexemptlist", since(9, 8, global(kAny1)))
	add("sshdsessionpath", since(9, 8, global(kOne)))
	add("sshdauthpath", since(10, 0, global(kOne)))
	add("refuseconnection", since(10, 0, all(kFlag, true)))
	add("banner,forcecommand,chrootdirectory,trustedusercakeys,revokedkeys,authorizedprincipalsfile,authorizedkeyscommanduser,authorizedprincipalscommanduser,rdomain,casignaturealgorithms,hostbasedacceptedalgorithms,hostbasedacceptedkeytypes,streamlocalbindmask,pubkeyauthoptions",
		all(kAny1, true))
	add("authorizedkeyscommand,authorizedprincipalscommand,authorizedkeysfile,authenticationmethods,permitopen,permitlisten,setenv,ipqos,rekeylimit,logverbose",
		all(kAny1, true))
	add("acceptenv", all(kAcceptEnv, true))
	add("versionaddendum,gssapikexalgorithms", global(kAny1))
	add("protocol,serverkeybits,keyregenerationinterval,rhostsauthentication,rhostsrsaauthentication,rsaauthentication,dsaauthentication,checkmail,uselogin,verifyreversemapping,reversemappingcheck,useprivilegeseparation,authorizedkeysfile2,kerberostgtpassing,afstokenpassing,pamauthenticationviakbdint,useroaming",
		keyword{kind: kIgnored})
	return t
}

// checkedKeys are the `sshd -T` keys the checks read; the validation test compares the
// parser with sshd on exactly these.
var checkedKeys = []string{
	"port", "hostkey", "permitrootlogin", "passwordauthentication", "kbdinteractiveauthentication",
	"usepam", "permitemptypasswords", "hostbasedauthentication", "ignorerhosts", "maxauthtries",
	"logingracetime", "maxstartups", "maxsessions", "clientaliveinterval", "clientalivecountmax",
	"disableforwarding", "x11forwarding", "allowtcpforwarding", "allowagentforwarding",
	"permittunnel", "gatewayports", "permituserenvironment", "loglevel", "allowusers",
	"allowgroups", "denyusers", "denygroups", "ciphers", "macs", "kexalgorithms",
	"hostkeyalgorithms", "pubkeyacceptedalgorithms",
}
