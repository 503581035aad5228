"""An independent, unrolled re-statement of the official D-DBPN (alterzero/DBPN-Pytorch dbpn.py).

Written stage by stage as in the paper's Fig. / the official forward, to check the generic
:class:`fdsr_mm.models.DBPN` wiring and the checkpoint converter against it. Not shipped.
"""
import torch
import torch.nn as nn


class Conv(nn.Module):
    def __init__(self, cin, cout, k, s, p, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p)
        if act:
            self.act = nn.PReLU()
        self.use_act = act

    def forward(self, x):
        x = self.conv(x)
        return self.act(x) if self.use_act else x


class Deconv(nn.Module):
    def __init__(self, cin, cout, k, s, p):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, k, s, p)
        self.act = nn.PReLU()

    def forward(self, x):
        return self.act(self.deconv(x))


class Up(nn.Module):
    def __init__(self, c, k, s, p, n_in=None):
        super().__init__()
        if n_in:
            self.conv = Conv(c * n_in, c, 1, 1, 0)
        self.up_conv1, self.up_conv2, self.up_conv3 = Deconv(c, c, k, s, p), Conv(c, c, k, s, p), \
            Deconv(c, c, k, s, p)
        self.n_in = n_in

    def forward(self, x):
        if self.n_in:
            x = self.conv(x)
        h0 = self.up_conv1(x)
        return self.up_conv3(self.up_conv2(h0) - x) + h0


class Down(nn.Module):
    def __init__(self, c, k, s, p, n_in=None):
        super().__init__()
        if n_in:
            self.conv = Conv(c * n_in, c, 1, 1, 0)
        self.down_conv1, self.down_conv2, self.down_conv3 = Conv(c, c, k, s, p), \
            Deconv(c, c, k, s, p), Conv(c, c, k, s, p)
        self.n_in = n_in

    def forward(self, x):
        if self.n_in:
            x = self.conv(x)
        l0 = self.down_conv1(x)
        return self.down_conv3(self.down_conv2(l0) - x) + l0


class OfficialDDBPN(nn.Module):
    """D-DBPN with T=7, written out: up1 down1 up2, then D-blocks with 2..6 inputs."""

    def __init__(self, feat=256, base=64, scale=4):
        super().__init__()
        k, s, p = {2: (6, 2, 2), 4: (8, 4, 2), 8: (12, 8, 2)}[scale]
        self.feat0 = Conv(3, feat, 3, 1, 1)
        self.feat1 = Conv(feat, base, 1, 1, 0)
        self.up1, self.down1, self.up2 = Up(base, k, s, p), Down(base, k, s, p), Up(base, k, s, p)
        self.down2, self.up3 = Down(base, k, s, p, 2), Up(base, k, s, p, 2)
        self.down3, self.up4 = Down(base, k, s, p, 3), Up(base, k, s, p, 3)
        self.down4, self.up5 = Down(base, k, s, p, 4), Up(base, k, s, p, 4)
        self.down5, self.up6 = Down(base, k, s, p, 5), Up(base, k, s, p, 5)
        self.down6, self.up7 = Down(base, k, s, p, 6), Up(base, k, s, p, 6)
        self.output_conv = Conv(7 * base, 3, 3, 1, 1, act=False)

    def forward(self, x):
        x = self.feat1(self.feat0(x))
        h1 = self.up1(x)
        l1 = self.down1(h1)
        h2 = self.up2(l1)
        concat_h = torch.cat((h2, h1), 1)
        l2 = self.down2(concat_h)
        concat_l = torch.cat((l2, l1), 1)
        h = self.up3(concat_l)
        concat_h = torch.cat((h, concat_h), 1)
        concat_l = torch.cat((self.down3(concat_h), concat_l), 1)
        h = self.up4(concat_l)
        concat_h = torch.cat((h, concat_h), 1)
        concat_l = torch.cat((self.down4(concat_h), concat_l), 1)
        h = self.up5(concat_l)
        concat_h = torch.cat((h, concat_h), 1)
        concat_l = torch.cat((self.down5(concat_h), concat_l), 1)
        h = self.up6(concat_l)
        concat_h = torch.cat((h, concat_h), 1)
        concat_l = torch.cat((self.down6(concat_h), concat_l), 1)
        h = self.up7(concat_l)
        concat_h = torch.cat((h, concat_h), 1)
        return self.output_conv(concat_h)
