package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/cluster"
)

// Restart carries out a restart request through the actuator: with Force,
// the window and load guards are lifted; without, every guard applies. The
// answer names the guard that blocks.
func Restart(ctx context.Context, act *actuator.Actuator, snap cluster.Snapshot, req Request, now time.Time) Response {
	resp := Response{ID: req.ID}
	r, err := act.Manual(ctx, snap, req.Bridge, req.Force, now)
	var refused *actuator.RefusedError
	switch {
	case errors.As(err, &refused):
		resp.Message = fmt.Sprintf("not restarted: %s (%s)", refused.Decision.Detail, refused.Decision.Reason)
	case err != nil:
		resp.Message = err.Error()
		resp.Output = r.Output
	default:
		resp.OK = true
		resp.Output = r.Output
		resp.Message = fmt.Sprintf("%s restarted; waiting for its stats to show the leak gone", req.Bridge)
	}
	return resp
}
