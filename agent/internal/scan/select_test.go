package scan

import (
	"context"
	"strings"
	"testing"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/catalog"
)

type idCheck string

func (c idCheck) ID() string { return string(c) }
func (c idCheck) Run(context.Context, host.Host) (checks.Result, error) {
	return checks.Pass("ok"), nil
}

func selectCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	entry := func(id string) string {
		return "  - {id: " + id + ", title: t, severity: low, rationale: r, remediation: f, references: [{title: x}]}\n"
	}
	cat, err := catalog.Parse([]byte("version: 1\nfamilies:\n  - {name: alpha, title: A}\n  - {name: beta, title: B}\n  - {name: gamma, title: G}\nchecks:\n" +
		entry("alpha.one") + entry("alpha.two") + entry("beta.one") + entry("gamma.unbuilt")))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func ids(list []checks.Check) string {
	var out []string
	for _, c := range list {
		out = append(out, c.ID())
	}
	return strings.Join(out, ",")
}

func TestSelect(t *testing.T) {
	cat := selectCatalog(t)
	list := []checks.Check{idCheck("alpha.one"), idCheck("alpha.two"), idCheck("beta.one")}
	for _, tc := range []struct {
		only, skip []string
		want       string
		wantErr    string
	}{
		{nil, nil, "alpha.one,alpha.two,beta.one", ""},
		{[]string{"alpha"}, nil, "alpha.one,alpha.two", ""},
		{[]string{"beta.one", "alpha.two"}, nil, "alpha.two,beta.one", ""},
		{nil, []string{"alpha"}, "beta.one", ""},
		{[]string{"alpha"}, []string{"alpha.one"}, "alpha.two", ""},
		{[]string{" alpha.one ", ""}, nil, "alpha.one", ""},
		{[]string{"gamma"}, nil, "", ""}, // declared family without built-in checks
		{[]string{"alp"}, nil, "", "unknown check or family \"alp\""},
		{nil, []string{"alpha.three"}, "", "--skip: unknown check"},
	} {
		got, err := Select(list, cat, tc.only, tc.skip)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Select(%v, %v) error %v, want %q", tc.only, tc.skip, err, tc.wantErr)
			}
			continue
		}
		if err != nil || ids(got) != tc.want {
			t.Errorf("Select(%v, %v) = %s, %v; want %s", tc.only, tc.skip, ids(got), err, tc.want)
		}
	}
}
