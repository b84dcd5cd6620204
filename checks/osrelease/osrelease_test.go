package osrelease

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	info := Parse("# comment\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME='Ubuntu'\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\nBAD LINE\nX=\"a \\\"q\\\" b\"\n")
	if info.ID != "ubuntu" || info.VersionID != "24.04" || info.Codename != "noble" || info.PrettyName != "Ubuntu 24.04.1 LTS" || !slices.Equal(info.IDLike, []string{"debian"}) {
		t.Fatalf("Parse = %+v", info)
	}
	if got := Parse("ID=\"RHEL\"\n").ID; got != "rhel" {
		t.Errorf("ID is lower-cased: got %q", got)
	}
	if got := Parse("").ID; got != "linux" {
		t.Errorf("missing ID defaults to linux (os-release(5)); got %q", got)
	}
	if got := unquote(`"a \"q\" b"`); got != `a "q" b` {
		t.Errorf("unquote = %q", got)
	}
}
